using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using WsCore.Tests.Support;

namespace WsCore.Tests.Serve;

/// <summary>
/// The test page in a real browser: headless Chromium loads it from <c>wsctl serve</c>, its script opens a
/// WebSocket back, and the page shows a counter value. Read through the DevTools protocol (over ClientWebSocket).
/// </summary>
public partial class BrowserTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Page_InHeadlessChromium_OpensSocketAndShowsCounter()
    {
        Assert.True(File.Exists("/usr/bin/chromium"), "chromium is missing: run scripts/prereqs.sh");
        var (serve, port) = await WsctlProcess.StartServeAsync("--counter-interval", "300ms", "--json");
        using var serveProcess = serve;
        var profile = Directory.CreateTempSubdirectory("wsctl-chromium-");
        var info = new ProcessStartInfo("/usr/bin/chromium") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.FullName}", "--remote-debugging-port=0",
            $"http://127.0.0.1:{port}/",
        })
            info.ArgumentList.Add(arg);
        using var chromium = Process.Start(info)!;
        try
        {
            var devtools = await ReadDevToolsPortAsync(chromium);
            var counter = await EvaluateUntilAsync(devtools, $"http://127.0.0.1:{port}/",
                "document.getElementById('counter').textContent", value => long.TryParse(value, out _));
            Assert.True(long.Parse(counter, System.Globalization.CultureInfo.InvariantCulture) >= 1);
            // The server saw the browser's socket open.
            await serve.WaitForStdoutAsync(l => l.Contains("\"type\":\"open\"", StringComparison.Ordinal), Timeout);
        }
        finally
        {
            if (!chromium.HasExited)
                chromium.Kill(entireProcessTree: true);
            await chromium.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            profile.Delete(recursive: true);
        }
    }

    // Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" on stderr.
    private static async Task<int> ReadDevToolsPortAsync(Process chromium)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (await chromium.StandardError.ReadLineAsync(cts.Token) is { } line)
        {
            var match = DevToolsLine().Match(line);
            if (match.Success)
            {
                // Keep draining stderr so chromium never blocks on a full pipe.
                _ = chromium.StandardError.ReadToEndAsync(CancellationToken.None);
                _ = chromium.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException("chromium exited without a DevTools line");
    }

    private static async Task<string> EvaluateUntilAsync(int devtoolsPort, string pageUrl, string expression, Func<string, bool> done)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var end = DateTime.UtcNow + Timeout;
        string? target = null;
        while (target is null)
        {
            if (DateTime.UtcNow > end)
                throw new TimeoutException("the page never showed up in DevTools");
            using var list = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{devtoolsPort}/json/list"));
            target = list.RootElement.EnumerateArray()
                .Where(t => t.GetProperty("type").GetString() == "page" && t.GetProperty("url").GetString()!.StartsWith(pageUrl, StringComparison.Ordinal))
                .Select(t => t.GetProperty("webSocketDebuggerUrl").GetString())
                .FirstOrDefault();
            if (target is null)
                await Task.Delay(100);
        }
        using var cdp = new ClientWebSocket();
        await cdp.ConnectAsync(new Uri(target), CancellationToken.None).WaitAsync(Timeout);
        var id = 0;
        var last = "";
        while (DateTime.UtcNow < end)
        {
            id++;
            var request = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["id"] = id,
                ["method"] = "Runtime.evaluate",
                ["params"] = new Dictionary<string, object> { ["expression"] = expression, ["returnByValue"] = true },
            });
            await cdp.SendAsync(Encoding.UTF8.GetBytes(request), WebSocketMessageType.Text, true, CancellationToken.None);
            while (true)
            {
                using var reply = JsonDocument.Parse(await ReceiveAsync(cdp));
                if (!reply.RootElement.TryGetProperty("id", out var replyId) || replyId.GetInt32() != id)
                    continue;
                var result = reply.RootElement.GetProperty("result").GetProperty("result");
                last = result.TryGetProperty("value", out var value) ? value.ToString() : "";
                break;
            }
            if (done(last))
                return last;
            await Task.Delay(200);
        }
        throw new TimeoutException($"'{expression}' was still '{last}'");
    }

    private static async Task<string> ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = new byte[1 << 20];
        var filled = 0;
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(filled), cts.Token);
            filled += result.Count;
            if (result.EndOfMessage)
                return Encoding.UTF8.GetString(buffer, 0, filled);
        }
    }

    [GeneratedRegex(@"DevTools listening on ws://[^:]+:(\d+)/")]
    private static partial Regex DevToolsLine();
}
