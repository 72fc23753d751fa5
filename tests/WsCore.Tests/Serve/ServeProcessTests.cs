using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Serve;

/// <summary>
/// The real <c>wsctl serve</c> process, driven by independent clients (ClientWebSocket, python3-websockets).
/// </summary>
public class ServeProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static async Task<ClientWebSocket> ConnectAsync(int port)
    {
        var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), CancellationToken.None).WaitAsync(Timeout);
        return client;
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket client)
    {
        var buffer = new byte[65536];
        var filled = 0;
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            var result = await client.ReceiveAsync(buffer.AsMemory(filled), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
                return $"<close {client.CloseStatus}>";
            filled += result.Count;
            if (result.EndOfMessage)
                return Encoding.UTF8.GetString(buffer, 0, filled);
        }
    }

    [Fact]
    public async Task Serve_CounterInterval_BroadcastsCounterIncreasingByOne()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--counter-interval", "200ms");
        using (serve)
        {
            using var client = await ConnectAsync(port);
            var values = new List<long>();
            while (values.Count < 3)
            {
                using var json = JsonDocument.Parse(await ReceiveTextAsync(client));
                Assert.Equal("message", json.RootElement.GetProperty("type").GetString());
                Assert.Equal("counter", json.RootElement.GetProperty("data").GetProperty("sensor").GetString());
                values.Add(json.RootElement.GetProperty("data").GetProperty("value").GetInt64());
            }
            Assert.Equal(values[0] + 1, values[1]);
            Assert.Equal(values[1] + 1, values[2]);
        }
    }

    [Fact]
    public async Task Serve_StdinLine_ReachesEveryClient_AndJsonLinesDescribeEvents()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter", "--json");
        using (serve)
        {
            var clients = new List<ClientWebSocket>();
            for (var i = 0; i < 5; i++)
                clients.Add(await ConnectAsync(port));
            await serve.WaitForStdoutAsync(line => line.Contains("\"client\":5", StringComparison.Ordinal), Timeout);
            await serve.StandardInput.WriteLineAsync("hello-from-stdin");
            await serve.StandardInput.FlushAsync();
            foreach (var client in clients)
                Assert.Equal("hello-from-stdin", await ReceiveTextAsync(client));

            await clients[0].SendAsync(
                "über \"quoted\""u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            await clients[1].SendAsync(
                new byte[] { 0, 1, 2, 255 }, WebSocketMessageType.Binary, true, CancellationToken.None);
            await clients[2]
                .CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None)
                .WaitAsync(Timeout);

            var text = Parse(await serve.WaitForStdoutAsync(
                l => l.Contains("\"text\"", StringComparison.Ordinal), Timeout));
            Assert.Equal("über \"quoted\"", text.GetProperty("data").GetString());
            Assert.Equal(1, text.GetProperty("client").GetInt32());
            Assert.StartsWith("127.0.0.1:", text.GetProperty("remote").GetString());
            Assert.True(DateTimeOffset.TryParse(text.GetProperty("ts").GetString(), out _));
            var binary = Parse(await serve.WaitForStdoutAsync(
                l => l.Contains("\"binary\"", StringComparison.Ordinal), Timeout));
            Assert.Equal(Convert.ToBase64String(new byte[] { 0, 1, 2, 255 }), binary.GetProperty("data").GetString());
            Assert.Equal(4, binary.GetProperty("size").GetInt32());
            var close = Parse(await serve.WaitForStdoutAsync(
                l => l.Contains("\"close\"", StringComparison.Ordinal), Timeout));
            Assert.Equal(3, close.GetProperty("client").GetInt32());
            Assert.Equal(1000, close.GetProperty("code").GetInt32());
            Assert.Equal("bye", close.GetProperty("reason").GetString());
            Assert.All(serve.StdoutLines, line => Parse(line));
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Serve_PlainOutput_PrintsTextAsIsAndBinaryAsBase64()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter");
        using (serve)
        {
            using var client = await ConnectAsync(port);
            await client.SendAsync("plain line"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            await client.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
            Assert.Equal("plain line", await serve.WaitForStdoutAsync(l => l == "plain line", Timeout));
            await serve.WaitForStdoutAsync(l => l == "[binary 3 bytes] base64:AQID", Timeout);
        }
    }

    // Plain lines are printed on the receiving threads and leave a redirected stdout in batches (MessageLines): with
    // four clients sending at once, every line arrives exactly once and whole (never two messages within one line),
    // the last batch without any further traffic to push it out, and each client's lines in its own order.
    [Fact]
    public async Task Serve_PlainOutput_ConcurrentClients_EveryLineOnceWholeAndInOrderPerClient()
    {
        const int Clients = 4, Messages = 300;
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter", "--echo");
        using (serve)
        {
            var senders = Enumerable.Range(0, Clients).Select(async c =>
            {
                using var client = await ConnectAsync(port);
                for (var i = 0; i < Messages; i++)
                {
                    var text = $"client{c}-message{i}-" + new string((char)('a' + c), i % 200);
                    await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true,
                        CancellationToken.None);
                    Assert.Equal(text, await ReceiveTextAsync(client));
                }
                await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            }).ToArray();
            await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(60));
            await serve.WaitForStdoutAsync(_ => serve.StdoutLines.Count >= Clients * Messages, Timeout);
            var lines = serve.StdoutLines;
            Assert.Equal(Clients * Messages, lines.Count);
            for (var c = 0; c < Clients; c++)
            {
                var expected = Enumerable.Range(0, Messages)
                    .Select(i => $"client{c}-message{i}-" + new string((char)('a' + c), i % 200));
                Assert.Equal(expected, lines.Where(l => l.StartsWith($"client{c}-", StringComparison.Ordinal)));
            }
        }
    }

    // stdout open but never read (a paused pager, a full pipe): serve keeps echoing (more than its 1 MiB of pending
    // output plus the pipe's buffer), says in the log that output is dropped, and still stops on Ctrl-C, exit 0.
    [Theory]
    [InlineData("--no-counter")]
    [InlineData("--json")]
    public async Task Serve_StdoutNeverRead_KeepsServingAndStopsOnSigint(string mode)
    {
        var dir = Directory.CreateTempSubdirectory("wsctl-unread-");
        try
        {
            var fifo = Path.Combine(dir.FullName, "stdout");
            var stderr = Path.Combine(dir.FullName, "stderr");
            using (var made = Process.Start("mkfifo", [fifo]))
                await made.WaitForExitAsync();
            // Opened for reading and writing, so that opening it does not wait; never read.
            using var holder = new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite);
            var info = new ProcessStartInfo("bash")
            {
                ArgumentList =
                {
                    "-c",
                    "exec dotnet \"$0\" serve --port 0 --bind 127.0.0.1 --echo --no-counter \"$1\" >\"$2\" 2>\"$3\"",
                    WsctlProcess.DllPath, mode, fifo, stderr,
                },
                UseShellExecute = false,
            };
            info.Environment["XDG_RUNTIME_DIR"] = dir.FullName;
            using var serve = Process.Start(info)!;
            try
            {
                var port = await ListeningPortAsync(stderr);
                using var client = await ConnectAsync(port);
                var message = new string('x', 1000);
                for (var i = 0; i < 3000; i++)
                {
                    await client.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true,
                        CancellationToken.None);
                    Assert.Equal(message, await ReceiveTextAsync(client));
                }
                Assert.Contains("stdout is not being read", await File.ReadAllTextAsync(stderr));

                using (var kill = Process.Start("kill", ["-INT", serve.Id.ToString(CultureInfo.InvariantCulture)]))
                    await kill.WaitForExitAsync();
                await serve.WaitForExitAsync().WaitAsync(Timeout);
                Assert.Equal(0, serve.ExitCode);
            }
            finally
            {
                if (!serve.HasExited)
                    serve.Kill();
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<int> ListeningPortAsync(string stderrFile)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            var match = System.Text.RegularExpressions.Regex.Match(
                File.Exists(stderrFile) ? await File.ReadAllTextAsync(stderrFile) : "", @"listening on .*?:(\d+)/");
            if (match.Success)
                return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            await Task.Delay(50);
        }
        throw new TimeoutException("serve did not say where it listens:\n" + await File.ReadAllTextAsync(stderrFile));
    }

    [Fact]
    public async Task Serve_Sigint_ClosesClientsWith1001AndExits0()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter");
        using (serve)
        {
            using var client = await ConnectAsync(port);
            using var raw = await RawWebSocket.ConnectAsync(port);
            await serve.WaitForStderrAsync(new System.Text.RegularExpressions.Regex("client 2 connected"), Timeout);
            serve.Signal("INT");
            Assert.Equal(1001, await raw.ReceiveCloseCodeAsync(Timeout));
            Assert.Equal("<close EndpointUnavailable>", await ReceiveTextAsync(client));
            Assert.Equal(0, await serve.WaitForExitAsync(Timeout));
        }
    }

    [Fact]
    public async Task Serve_Sigterm_Exits0()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter");
        using (serve)
        {
            using var raw = await RawWebSocket.ConnectAsync(port);
            serve.Signal("TERM");
            Assert.Equal(1001, await raw.ReceiveCloseCodeAsync(Timeout));
            Assert.Equal(0, await serve.WaitForExitAsync(Timeout));
        }
    }

    [Fact]
    public async Task Serve_StdinClosed_KeepsServing()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter", "--echo");
        using (serve)
        {
            serve.StandardInput.Close();
            await serve.WaitForStderrAsync(new System.Text.RegularExpressions.Regex("listening"), Timeout);
            using var client = await ConnectAsync(port);
            await client.SendAsync("echo me"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal("echo me", await ReceiveTextAsync(client));
            Assert.False(serve.HasExited);
        }
    }

    [Fact]
    public async Task Serve_Page_ServedOnRootWithStatusAnd404ElsewhereAndOffWithNoPage()
    {
        using var http = new HttpClient { Timeout = Timeout };
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter");
        using (serve)
        {
            var page = await http.GetAsync($"http://127.0.0.1:{port}/");
            Assert.Equal("text/html; charset=utf-8", page.Content.Headers.ContentType!.ToString());
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains("new WebSocket(", html);
            Assert.Contains("id=\"counter\"", html);
            Assert.Equal(
                System.Net.HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{port}/other")).StatusCode);
            // The page asks /status how full the server is (a browser cannot see a refused upgrade's 503).
            using var client = await ConnectAsync(port);
            await serve.WaitForStderrAsync(new System.Text.RegularExpressions.Regex("client 1 connected"), Timeout);
            var status = await http.GetAsync($"http://127.0.0.1:{port}/status");
            Assert.Equal("application/json", status.Content.Headers.ContentType!.ToString());
            Assert.Equal("no-store", status.Headers.CacheControl!.ToString());
            Assert.Equal("{\"clients\":1,\"maxClients\":5}", await status.Content.ReadAsStringAsync());
        }
        var (noPage, noPagePort) = await WsctlProcess.StartServeAsync("--no-counter", "--no-page");
        using (noPage)
            Assert.Equal(
                System.Net.HttpStatusCode.NotFound,
                (await http.GetAsync($"http://127.0.0.1:{noPagePort}/")).StatusCode);
    }

    [Fact]
    public async Task Serve_Relay_SendsEveryMessageToEveryClient()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter", "--relay");
        using (serve)
        {
            using var a = await ConnectAsync(port);
            using var b = await ConnectAsync(port);
            await serve.WaitForStderrAsync(new System.Text.RegularExpressions.Regex("client 2 connected"), Timeout);
            await a.SendAsync("chat"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal("chat", await ReceiveTextAsync(a));
            Assert.Equal("chat", await ReceiveTextAsync(b));
        }
    }

    [Fact]
    public async Task Serve_PythonWebsocketsClient_EchoesAndSeesCounter()
    {
        if (!File.Exists("/usr/bin/python3"))
            Assert.Fail("python3 is missing: run scripts/prereqs.sh");
        var (serve, port) = await WsctlProcess.StartServeAsync("--echo", "--counter-interval", "300ms");
        using (serve)
        {
            const string script = """
                import asyncio, json, sys
                from websockets import connect  # Debian bookworm ships websockets 10.x
                async def main():
                    async with connect(sys.argv[1]) as ws:
                        await ws.send("from python")
                        got_echo = got_counter = False
                        while not (got_echo and got_counter):
                            msg = await asyncio.wait_for(ws.recv(), 10)
                            if msg == "from python":
                                got_echo = True
                            elif json.loads(msg)["data"]["sensor"] == "counter":
                                got_counter = True
                        await ws.ping()
                    print("ok", ws.close_code)
                asyncio.run(main())
                """;
            var info = new ProcessStartInfo("/usr/bin/python3")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true
            };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(script);
            info.ArgumentList.Add($"ws://127.0.0.1:{port}/");
            using var python = Process.Start(info)!;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var stdout = python.StandardOutput.ReadToEndAsync(cts.Token);
            var stderr = python.StandardError.ReadToEndAsync(cts.Token);
            try
            {
                await python.WaitForExitAsync(cts.Token);
            }
            finally
            {
                if (!python.HasExited)
                    python.Kill();
            }
            Assert.True(python.ExitCode == 0, await stderr);
            Assert.Equal("ok 1000", (await stdout).Trim());
            await serve.WaitForStdoutAsync(l => l == "from python", Timeout);
        }
    }

    private static JsonElement Parse(string line) => JsonDocument.Parse(line).RootElement.Clone();
}
