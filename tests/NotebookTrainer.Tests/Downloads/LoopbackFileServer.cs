using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NotebookTrainer.Tests.Downloads;

/// <summary>
/// A deliberately unreliable HTTP/1.1 file server on 127.0.0.1 for download tests. It speaks raw HTTP over a
/// socket so it can misbehave in ways a real framework would not let it: cut the connection mid-body, announce a
/// wrong length, ignore Range, or send other bytes than it should.
/// </summary>
sealed class LoopbackFileServer : IAsyncDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource stop = new();
    readonly Task loop;
    readonly List<string> requests = new();

    public LoopbackFileServer(byte[] content)
    {
        Content = content;
        listener.Start();
        loop = Task.Run(AcceptLoop);
    }

    public byte[] Content { get; set; }
    /// <summary>Close the connection after this many body bytes, for the first <see cref="DropTimes"/> responses.</summary>
    public int? DropAfterBytes { get; set; }
    public int DropTimes { get; set; } = 1;
    public bool IgnoreRange { get; set; }
    public long? AnnouncedLength { get; set; }
    public int? StatusCode { get; set; }
    public Func<HttpListenerRequestLine, bool>? RequireAuthorization { get; set; }

    public string Url(string path = "/model.safetensors") => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}{path}";

    public IReadOnlyList<string> Requests { get { lock (requests) return requests.ToList(); } }

    async Task AcceptLoop()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (SocketException) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    async Task Serve(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var head = await ReadHead(stream);
        if (head is null) return;
        var line = new HttpListenerRequestLine(head);
        lock (requests) requests.Add(head);

        if (RequireAuthorization is { } check && !check(line))
        {
            await Write(stream, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        }
        if (StatusCode is { } status)
        {
            await Write(stream, $"HTTP/1.1 {status} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        }

        long from = 0;
        if (!IgnoreRange && line.RangeStart is { } start)
        {
            if (start >= Content.Length)
            {
                await Write(stream, $"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{Content.Length}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                return;
            }
            from = start;
        }
        long length = AnnouncedLength ?? Content.Length;
        var header = from > 0
            ? $"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {from}-{length - 1}/{length}\r\nContent-Length: {length - from}\r\n"
            : $"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n";
        await Write(stream, header + "Accept-Ranges: bytes\r\nConnection: close\r\n\r\n");

        var body = Content.AsMemory((int)from);
        bool drop;
        lock (requests) drop = DropAfterBytes is not null && DropTimes-- > 0;
        if (drop)
            body = body[..Math.Min(body.Length, DropAfterBytes!.Value)];
        try
        {
            await stream.WriteAsync(body);
            await stream.FlushAsync();
        }
        catch (IOException) { }
        client.Client.Shutdown(SocketShutdown.Both);
    }

    static async Task<string?> ReadHead(NetworkStream stream)
    {
        var sb = new StringBuilder();
        var buffer = new byte[1];
        while (!sb.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(buffer) == 0) return null;
            sb.Append((char)buffer[0]);
        }
        return sb.ToString();
    }

    static Task Write(NetworkStream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

    public async ValueTask DisposeAsync()
    {
        stop.Cancel();
        listener.Stop();
        try { await loop; } catch (OperationCanceledException) { }
    }
}

/// <summary>The parts of a request head the tests look at.</summary>
sealed class HttpListenerRequestLine
{
    public HttpListenerRequestLine(string head)
    {
        foreach (var raw in head.Split("\r\n"))
        {
            var colon = raw.IndexOf(':');
            if (colon <= 0) continue;
            var name = raw[..colon].Trim();
            var value = raw[(colon + 1)..].Trim();
            if (name.Equals("Range", StringComparison.OrdinalIgnoreCase) && value.StartsWith("bytes=") && value.EndsWith('-'))
                RangeStart = long.Parse(value[6..^1]);
            if (name.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
                Authorization = value;
        }
    }

    public long? RangeStart { get; }
    public string? Authorization { get; }
}
