using System.Net;
using System.Net.Sockets;

namespace NotebookTrainer.Tests.Acquisition;

/// <summary>An HTTP server on 127.0.0.1 whose answers a test defines per request (path and query).</summary>
sealed class LoopbackRouteServer : IDisposable
{
    readonly HttpListener listener = new();
    readonly Func<HttpListenerRequest, (int Status, string ContentType, byte[] Body)> route;
    readonly List<string> requests = new();

    public LoopbackRouteServer(Func<HttpListenerRequest, (int, string, byte[])> route)
    {
        this.route = route;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        _ = Task.Run(Loop);
    }

    public int Port { get; }
    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");
    public IReadOnlyList<string> Requests { get { lock (requests) return requests.ToList(); } }

    async Task Loop()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception) { return; }
            lock (requests) requests.Add(context.Request.Url!.PathAndQuery);
            var (status, type, body) = route(context.Request);
            context.Response.StatusCode = status;
            context.Response.ContentType = type;
            context.Response.ContentLength64 = body.Length;
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
    }

    public void Dispose() => listener.Close();
}
