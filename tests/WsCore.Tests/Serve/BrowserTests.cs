using System.Text.RegularExpressions;
using WsCore.Tests.Support;

namespace WsCore.Tests.Serve;

/// <summary>
/// The test page in a real browser: headless Chromium loads it from a real <c>wsctl serve</c>, its script opens a
/// WebSocket back, and the tests read what the page shows (its visible text) through the DevTools protocol.
/// </summary>
public partial class BrowserTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Page_InHeadlessChromium_OpensSocketAndShowsCounter()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--counter-interval", "300ms", "--json");
        using var serveProcess = serve;
        await using var browser = await HeadlessChromium.OpenAsync($"http://127.0.0.1:{port}/", Timeout);
        var counter = await browser.EvaluateUntilAsync("document.getElementById('counter').textContent",
            value => long.TryParse(value, out _), Timeout);
        Assert.True(long.Parse(counter, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        // The server saw the browser's socket open.
        await serve.WaitForStdoutAsync(l => l.Contains("\"type\":\"open\"", StringComparison.Ordinal), Timeout);
    }

    [Fact]
    public async Task Page_ServeWithCompress_BrowserNegotiatesDeflateAndShowsCounter()
    {
        // Chromium offers permessage-deflate on every socket; serve --compress accepts it, and the counter (compressed
        // with context takeover, RSV1 set) still arrives and parses: Chromium's own inflater reads what serve sends.
        var (serve, port) = await WsctlProcess.StartServeAsync(
            "--compress", "--echo", "--counter-interval", "300ms", "--json");
        using var serveProcess = serve;
        await using var browser = await HeadlessChromium.OpenAsync($"http://127.0.0.1:{port}/", Timeout);
        var extensions = await browser.EvaluateUntilAsync(
            "ws && ws.readyState === 1 ? ws.extensions : ''", value => value.Length > 0, Timeout);
        Assert.StartsWith("permessage-deflate", extensions, StringComparison.Ordinal);
        var counters = new List<long>();
        while (counters.Count < 3)
        {
            var counter = await browser.EvaluateUntilAsync("document.getElementById('counter').textContent",
                value => long.TryParse(value, out var n) && !counters.Contains(n), Timeout);
            counters.Add(long.Parse(counter, System.Globalization.CultureInfo.InvariantCulture));
        }
        // The browser compresses too: a message it sends comes back whole through serve's inflater and deflater.
        var text = string.Concat(Enumerable.Repeat("compressed both ways ", 200));
        await browser.EvaluateUntilAsync(
            "(window.__echo ??= (ws.addEventListener('message', e => " +
            $"{{ if (e.data === '{text}') window.__got = 1; }})," +
            $" ws.send('{text}'), 1), window.__got ? 'yes' : '')",
            value => value == "yes", Timeout);
        await serve.WaitForStdoutAsync(l => l.Contains("compressed both ways", StringComparison.Ordinal), Timeout);
    }

    [Fact]
    public async Task Page_ServerFull_Says503AndConnectsOnceTheSlotFrees()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--max-clients", "1", "--counter-interval", "300ms");
        using var serveProcess = serve;
        var occupant = await RawWebSocket.ConnectAsync(port);
        try
        {
            Assert.Equal(101, occupant.Status);
            await using var browser = await HeadlessChromium.OpenAsync($"http://127.0.0.1:{port}/", Timeout);

            await browser.WaitForTextAsync(
                text => text.Contains("server full (503), retrying in", StringComparison.Ordinal), Timeout);
            // What the page says is what happened: serve refused an upgrade with 503.
            await serve.WaitForStderrAsync(RefusedLine(), Timeout);

            occupant.Dispose();
            var page = await browser.WaitForTextAsync(text => IsOpen(text) && ShowsCounter(text), Timeout);
            Assert.Contains("server full (503)", page, StringComparison.Ordinal);
        }
        finally
        {
            occupant.Dispose();
        }
    }

    [Fact]
    public async Task Page_ServeRestartedOnSamePort_Shows1001AndReconnects()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--counter-interval", "300ms");
        using (serve)
        {
            await using var browser = await HeadlessChromium.OpenAsync($"http://127.0.0.1:{port}/", Timeout);
            await browser.WaitForTextAsync(text => IsOpen(text) && ShowsCounter(text), Timeout);

            serve.Signal("TERM");
            Assert.Equal(0, await serve.WaitForExitAsync(Timeout));
            await browser.WaitForTextAsync(text => text.Contains(ShutdownClose, StringComparison.Ordinal), Timeout);

            var (restarted, samePort) = await WsctlProcess.StartServeOnPortAsync(port, "--counter-interval", "300ms");
            using (restarted)
            {
                Assert.Equal(port, samePort);
                // Open again, and a counter message logged after the 1001 (the log lists oldest first).
                await browser.WaitForTextAsync(text =>
                {
                    var closedAt = text.LastIndexOf(ShutdownClose, StringComparison.Ordinal);
                    return closedAt >= 0 && IsOpen(text)
                        && text.IndexOf(CounterJson, closedAt, StringComparison.Ordinal) > closedAt;
                }, Timeout);
                await restarted.WaitForStderrAsync(ConnectedLine(), Timeout);
            }
        }
    }

    private const string ShutdownClose = "closed 1001 (server shutting down)";
    private const string CounterJson = "\"sensor\":\"counter\"";

    private static bool IsOpen(string pageText) => pageText.Contains("Socket: open", StringComparison.Ordinal);

    private static bool ShowsCounter(string pageText) => CounterValue().IsMatch(pageText);

    [GeneratedRegex(@"Counter: \d+")]
    private static partial Regex CounterValue();

    [GeneratedRegex(@"refused .*\(503\)")]
    private static partial Regex RefusedLine();

    [GeneratedRegex(@"client \d+ connected")]
    private static partial Regex ConnectedLine();
}
