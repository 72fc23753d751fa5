using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace WsCore.Tests.Support;

/// <summary>
/// Debian's Chromium, headless, with one page open, read through the DevTools protocol (over ClientWebSocket). Waits
/// use timeouts, never sleeps as synchronisation; dispose kills the browser and deletes its throw-away profile.
/// </summary>
public sealed partial class HeadlessChromium : IAsyncDisposable
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private readonly Process _process;
    private readonly DirectoryInfo _profile;
    private ClientWebSocket? _devtools;
    private int _nextId;

    private HeadlessChromium(Process process, DirectoryInfo profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>
    /// Starts Chromium on <paramref name="url"/> and connects to that page's DevTools target;
    /// <paramref name="switches"/> are added to its command line.
    /// </summary>
    public static async Task<HeadlessChromium> OpenAsync(string url, TimeSpan timeout, params string[] switches)
    {
        Assert.True(File.Exists(ChromiumPath), "chromium is missing: run scripts/prereqs.sh");
        var profile = Directory.CreateTempSubdirectory("wsctl-chromium-");
        var info = new ProcessStartInfo(ChromiumPath) { RedirectStandardError = true, RedirectStandardOutput = true };
        string[] arguments =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.FullName}",
            "--remote-debugging-port=0",
            .. switches,
            url,
        ];
        foreach (var arg in arguments)
            info.ArgumentList.Add(arg);
        var chromium = new HeadlessChromium(Process.Start(info)!, profile);
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            var port = await chromium.ReadDevToolsPortAsync(cts.Token);
            var target = await FindPageTargetAsync(port, url, cts.Token);
            chromium._devtools = new ClientWebSocket();
            await chromium._devtools.ConnectAsync(new Uri(target), cts.Token);
            return chromium;
        }
        catch
        {
            await chromium.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Evaluates <paramref name="expression"/> in the page every 200 ms until <paramref name="done"/> accepts its
    /// value; returns that value. A TimeoutException past <paramref name="timeout"/> shows the last value.
    /// </summary>
    public async Task<string> EvaluateUntilAsync(string expression, Func<string, bool> done, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var last = "";
        try
        {
            while (true)
            {
                last = await EvaluateAsync(expression, cts.Token);
                if (done(last))
                    return last;
                await Task.Delay(200, cts.Token);
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"'{expression}' was still, after {timeout}:\n{last}");
        }
    }

    /// <summary>
    /// Waits until the page's visible text (<c>document.body.innerText</c>) satisfies <paramref name="done"/>.
    /// </summary>
    public Task<string> WaitForTextAsync(Func<string, bool> done, TimeSpan timeout) =>
        EvaluateUntilAsync("document.body.innerText", done, timeout);

    public async ValueTask DisposeAsync()
    {
        _devtools?.Abort();
        _devtools?.Dispose();
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
        }
        _process.Dispose();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A child that outlived the kill may still be writing; a leftover temp directory is harmless.
        }
    }

    private async Task<string> EvaluateAsync(string expression, CancellationToken cancel)
    {
        var id = ++_nextId;
        var request = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["id"] = id,
            ["method"] = "Runtime.evaluate",
            ["params"] = new Dictionary<string, object> { ["expression"] = expression, ["returnByValue"] = true },
        });
        await _devtools!.SendAsync(Encoding.UTF8.GetBytes(request), WebSocketMessageType.Text, true, cancel);
        while (true)
        {
            // Replies to other ids and events are skipped.
            using var reply = JsonDocument.Parse(await ReceiveAsync(cancel));
            if (!reply.RootElement.TryGetProperty("id", out var replyId) || replyId.GetInt32() != id)
                continue;
            var result = reply.RootElement.GetProperty("result").GetProperty("result");
            return result.TryGetProperty("value", out var value) ? value.ToString() : "";
        }
    }

    private async Task<string> ReceiveAsync(CancellationToken cancel)
    {
        var buffer = new byte[1 << 20];
        var filled = 0;
        while (true)
        {
            var result = await _devtools!.ReceiveAsync(buffer.AsMemory(filled), cancel);
            filled += result.Count;
            if (result.EndOfMessage)
                return Encoding.UTF8.GetString(buffer, 0, filled);
        }
    }

    // Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" on stderr.
    private async Task<int> ReadDevToolsPortAsync(CancellationToken cancel)
    {
        while (await _process.StandardError.ReadLineAsync(cancel) is { } line)
        {
            var match = DevToolsLine().Match(line);
            if (match.Success)
            {
                // Keep draining both pipes so chromium never blocks on a full one.
                _ = _process.StandardError.ReadToEndAsync(CancellationToken.None);
                _ = _process.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException("chromium exited without a DevTools line");
    }

    private static async Task<string> FindPageTargetAsync(int devtoolsPort, string pageUrl, CancellationToken cancel)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            using var list = JsonDocument.Parse(await http.GetStringAsync(
                $"http://127.0.0.1:{devtoolsPort}/json/list", cancel));
            var target = list.RootElement.EnumerateArray()
                .Where(t => t.GetProperty("type").GetString() == "page"
                    && t.GetProperty("url").GetString()!.StartsWith(pageUrl, StringComparison.Ordinal))
                .Select(t => t.GetProperty("webSocketDebuggerUrl").GetString())
                .FirstOrDefault();
            if (target is not null)
                return target;
            await Task.Delay(100, cancel);
        }
    }

    [GeneratedRegex(@"DevTools listening on ws://[^:]+:(\d+)/")]
    private static partial Regex DevToolsLine();
}
