using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace NotebookTrainer.Tests.Curation;

/// <summary>
/// Headless Debian chromium driven over the Chrome DevTools protocol (one page, JSON messages on a WebSocket).
/// Clicks and typing go through Input.dispatchMouseEvent / Input.insertText, as a user's would.
/// </summary>
sealed class Chromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";
    readonly Process process;
    readonly string profile;
    readonly ClientWebSocket socket = new();
    readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> pending = new();
    readonly CancellationTokenSource stop = new();
    Task? receiver;
    int nextId;

    Chromium(Process process, string profile)
    {
        this.process = process;
        this.profile = profile;
    }

    public static async Task<Chromium> LaunchAsync()
    {
        var profile = Path.Combine(Path.GetTempPath(), $"nt-chromium-{Guid.NewGuid():N}");
        Directory.CreateDirectory(profile);
        var psi = new ProcessStartInfo(Executable) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0", $"--user-data-dir={profile}",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,900", "about:blank" })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Executable}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var browser = new Chromium(process, profile);
        try
        {
            await browser.ConnectAsync();
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    async Task ConnectAsync()
    {
        // With --remote-debugging-port=0 chromium writes the port it chose to DevToolsActivePort in the profile.
        var portFile = Path.Combine(profile, "DevToolsActivePort");
        var deadline = Stopwatch.StartNew();
        string[] lines = [];
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited) throw new InvalidOperationException($"chromium exited with code {process.ExitCode} before opening its DevTools port");
            if (File.Exists(portFile) && (lines = File.ReadAllLines(portFile)).Length >= 2) break;
            await Task.Delay(100);
        }
        if (lines.Length < 2) throw new TimeoutException("chromium did not open a DevTools port within 30 s");
        using var http = new HttpClient();
        var targets = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{lines[0]}/json/list")).RootElement;
        var page = targets.EnumerateArray().First(t => t.GetProperty("type").GetString() == "page");
        await socket.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!), CancellationToken.None);
        receiver = Task.Run(ReceiveLoop);
        await SendAsync("Page.enable");
        await SendAsync("Runtime.enable");
    }

    async Task ReceiveLoop()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (!stop.IsCancellationRequested && socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, stop.Token);
                if (result.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var root = JsonDocument.Parse(message.ToArray()).RootElement;
                message.SetLength(0);
                if (root.TryGetProperty("id", out var id) && pending.TryRemove(id.GetInt32(), out var waiter))
                {
                    if (root.TryGetProperty("error", out var error)) waiter.SetException(new InvalidOperationException($"CDP error: {error}"));
                    else waiter.SetResult(root.GetProperty("result").Clone());
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (WebSocketException) { }
        foreach (var w in pending.Values) w.TrySetException(new InvalidOperationException("DevTools connection closed"));
    }

    public async Task<JsonElement> SendAsync(string method, object? parameters = null)
    {
        var id = Interlocked.Increment(ref nextId);
        var waiter = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = waiter;
        var json = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters ?? new { } });
        await socket.SendAsync(json, WebSocketMessageType.Text, true, CancellationToken.None);
        return await waiter.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task NavigateAsync(string url) => await SendAsync("Page.navigate", new { url });

    /// <summary>Evaluates a JavaScript expression in the page (promises awaited) and returns its value.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true });
        if (result.TryGetProperty("exceptionDetails", out var ex)) throw new InvalidOperationException($"page script failed: {ex}");
        var value = result.GetProperty("result");
        return value.TryGetProperty("value", out var v) ? v.Clone() : default;
    }

    public async Task WaitForAsync(string condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(15)))
        {
            var v = await EvaluateAsync($"(() => {{ try {{ return !!({condition}); }} catch {{ return false; }} }})()");
            if (v.ValueKind == JsonValueKind.True) return;
            await Task.Delay(100);
        }
        var status = await EvaluateAsync("document.getElementById('status')?.textContent ?? ''");
        throw new TimeoutException($"timed out waiting for {what} ({condition}); page status: {status}");
    }

    /// <summary>Clicks the centre of the first element matching <paramref name="selector"/> with real mouse events.</summary>
    public async Task ClickAsync(string selector)
    {
        var box = await EvaluateAsync($$"""
            (() => { const e = document.querySelector({{JsonSerializer.Serialize(selector)}}); if (!e) return null;
                     e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()
            """);
        if (box.ValueKind != JsonValueKind.Array) throw new InvalidOperationException($"no element matches {selector}");
        double x = box[0].GetDouble(), y = box[1].GetDouble();
        await SendAsync("Input.dispatchMouseEvent", new { type = "mouseMoved", x, y });
        await SendAsync("Input.dispatchMouseEvent", new { type = "mousePressed", x, y, button = "left", clickCount = 1 });
        await SendAsync("Input.dispatchMouseEvent", new { type = "mouseReleased", x, y, button = "left", clickCount = 1 });
    }

    /// <summary>Focuses the element by clicking it, then types <paramref name="text"/>.</summary>
    public async Task TypeAsync(string selector, string text)
    {
        await ClickAsync(selector);
        await SendAsync("Input.insertText", new { text });
    }

    public async ValueTask DisposeAsync()
    {
        stop.Cancel();
        try { if (socket.State == WebSocketState.Open) await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None); }
        catch (WebSocketException) { }
        if (receiver is not null) await receiver.ContinueWith(_ => { });
        socket.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
    }

    static string Js(string s) => JsonSerializer.Serialize(s);
    public static string Selector(string css, string attribute, string value) => $"{css}[{attribute}={Js(value)}]";
}
