using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using WsCore.Control;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Send;

/// <summary>
/// <c>wsctl send</c> and <c>wsctl broadcast</c> as a user runs them: real processes, against <c>wsctl serve</c> and
/// against Kestrel (an implementation that is not ours), with every exit code of the table produced by a real
/// situation.
/// </summary>
public sealed class SendVerbTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static async Task<(
        int Exit, string Stdout, string Stderr)> RunWithStdinAsync(string? stdin, params string[] args)
    {
        var result = await WsctlProcess.RunAsync(args, stdin, timeout: Timeout);
        return (result.ExitCode, result.Stdout, result.Stderr);
    }

    private static Task<(
        int Exit, string Stdout, string Stderr)> RunAsync(params string[] args) => RunWithStdinAsync(null, args);

    /// <summary>A TCP server of our own making that answers each connection with <paramref name="answer"/>.</summary>
    private static (TcpListener Listener, int Port) RawServer(Func<Socket, Task> answer)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptSocketAsync();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
                _ = Task.Run(async () =>
                {
                    using (socket)
                    {
                        try
                        {
                            await answer(socket);
                        }
                        catch (SocketException)
                        {
                        }
                    }
                });
            }
        });
        return (listener, ((IPEndPoint)listener.LocalEndpoint).Port);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Send_MessageArgument_ReachesKestrel_AndWaitPrintsTheReply()
    {
        await using var kestrel = await KestrelEndpoint.StartAsync();
        var (exit, stdout, stderr) = await RunAsync("send", kestrel.Url, "hello board", "--wait", "1");
        Assert.True(exit == 0, stderr);
        Assert.Equal("echoed:hello board", stdout.Trim());
    }

    [Fact]
    public async Task Send_StdinLines_EachArrivesAsOneMessageInOrder()
    {
        await using var kestrel = await KestrelEndpoint.StartAsync();
        var lines = string.Concat(Enumerable.Range(1, 2000).Select(i => $"line-{i:D5}\n"));
        var (exit, _, stderr) = await RunWithStdinAsync(lines, "send", kestrel.Url);
        Assert.True(exit == 0, stderr);
        var received = kestrel.Received.Select(b => Encoding.UTF8.GetString(b)).ToList();
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => $"line-{i:D5}"), received);
    }

    [Fact]
    public async Task Send_BinaryFile_ArrivesAsOneBinaryMessage_AndHexToo()
    {
        await using var kestrel = await KestrelEndpoint.StartAsync();
        var file = Path.GetTempFileName();
        var bytes = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray();
        await File.WriteAllBytesAsync(file, bytes);
        try
        {
            var (exit, stdout, stderr) = await RunAsync("send", kestrel.Url, "--file", file, "--wait", "1");
            Assert.True(exit == 0, stderr);
            Assert.Equal(bytes, kestrel.Received.Single());
            Assert.StartsWith("[binary 70000 bytes] base64:", stdout.Trim());

            (exit, _, stderr) = await RunAsync("send", kestrel.Url, "--hex", "de ad be ef");
            Assert.True(exit == 0, stderr);
            Assert.Equal(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, kestrel.Received[1]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Send_WaitFor_PrintsTheFirstMatchingMessage_AndJsonGivesLinesAndAResult()
    {
        await using var kestrel = await KestrelEndpoint.StartAsync();
        // -q: only the message the wait asked for, then the result.
        var (exit, stdout, stderr) = await RunAsync(
            "send", kestrel.Url, "burst:5", "--wait-for", "^msg-[3]$", "--json", "-q");
        Assert.True(exit == 0, stderr);
        var lines = stdout.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Contains("\"data\":\"msg-3\"", lines[0]);
        Assert.Contains("\"type\":\"result\"", lines[1]);
        Assert.Contains("\"ok\":true", lines[1]);
        // Without it, every message up to the match is printed as it arrives.
        (exit, stdout, stderr) = await RunAsync("send", kestrel.Url, "burst:5", "--wait-for", "^msg-[3]$");
        Assert.True(exit == 0, stderr);
        Assert.StartsWith("msg-1\nmsg-2\nmsg-3\n", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_ClosedPort_Exits4()
    {
        var (exit, _, stderr) = await RunAsync("send", $"ws://127.0.0.1:{FreePort()}/", "x");
        Assert.True(exit == 4, stderr);
        Assert.Contains("cannot connect", stderr);
    }

    [Fact]
    public async Task Send_PlainHttpServer_Exits5WithTheStatus()
    {
        var (listener, port) = RawServer(async s =>
        {
            await s.ReceiveAsync(new byte[4096], SocketFlags.None);
            await s.SendAsync(
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray(), SocketFlags.None);
        });
        using (listener.Server)
        {
            var (exit, _, stderr) = await RunAsync("send", $"ws://127.0.0.1:{port}/", "x");
            Assert.True(exit == 5, stderr);
            Assert.Contains("200", stderr);
        }
    }

    [Fact]
    public async Task Send_SilentServer_Exits6AtItsTimeout()
    {
        using var release = new CancellationTokenSource();
        var (listener, port) = RawServer(s => Task.Delay(
            System.Threading.Timeout.Infinite, release.Token).ContinueWith(_ => { }));
        using (listener.Server)
        {
            var (exit, _, stderr) = await RunAsync("send", "--timeout", "1s", $"ws://127.0.0.1:{port}/", "x");
            await release.CancelAsync();
            Assert.True(exit == 6, stderr);
            Assert.Matches("timed out|took longer", stderr);
        }
    }

    // Without --timeout the close waits its default 10 s, and then says why the run took that long. With --timeout
    // given it bounds the whole run as well as the close wait: both run out together, and whichever comes first, the
    // message was delivered and only the close's answer is missing (exit 0 and the warning, as without --timeout; it
    // used to end silently when the whole run's deadline came first).
    [Theory]
    [InlineData(null, "10s")]
    [InlineData("1s", "1s")]
    public async Task Send_ServerUpgradesThenNeverAnswersTheClose_Exits0AndSaysSo(string? timeout, string waited)
    {
        using var release = new CancellationTokenSource();
        var (listener, port) = RawServer(async s =>
        {
            await using var stream = new NetworkStream(s, ownsSocket: false);
            await RawWebSocket.AcceptUpgradeAsync(stream);
            // Takes the message and the Close, answers nothing.
            var sink = new byte[4096];
            while (!release.IsCancellationRequested && await stream.ReadAsync(sink, release.Token) > 0)
            {
            }
        });
        using (listener.Server)
        {
            string[] args = timeout is null
                ? ["send", $"ws://127.0.0.1:{port}/", "x"]
                : ["send", "--timeout", timeout, $"ws://127.0.0.1:{port}/", "x"];
            var (exit, _, stderr) = await RunAsync(args);
            await release.CancelAsync();
            Assert.True(exit == 0, stderr);
            Assert.Contains($"did not answer the close within {waited}", stderr);
        }
    }

    // A server that takes the message and the Close and then ends TCP without answering, gracefully (FIN) or with a
    // reset: the message was written, only the close handshake is missing, so exit 0 as when no answer comes at
    // all, and a warning saying what happened (it used to pass without a word).
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Send_ServerEndsTcpInsteadOfAnsweringTheClose_Exits0AndSaysSo(bool reset)
    {
        var (listener, port) = RawServer(async s =>
        {
            await using (var stream = new NetworkStream(s, ownsSocket: false))
            {
                await RawWebSocket.AcceptUpgradeAsync(stream);
                while (await ReadClientFrameOpcodeAsync(stream) is { } opcode && opcode != 8)
                {
                }
            }
            if (reset)
                s.LingerState = new LingerOption(true, 0);
            else
                s.Shutdown(SocketShutdown.Both);
            s.Close();
        });
        using (listener.Server)
        {
            var (exit, _, stderr) = await RunAsync("send", "--timeout", "10s", $"ws://127.0.0.1:{port}/", "x");
            Assert.True(exit == 0, stderr);
            Assert.Contains("ended the connection without answering the close", stderr);
            Assert.DoesNotContain("did not answer the close within", stderr);
        }
    }

    // One masked client frame read whole from the stream (RFC 6455 §5.2): its opcode, or null at the end of TCP.
    private static async Task<int?> ReadClientFrameOpcodeAsync(Stream stream)
    {
        var head = new byte[2];
        if (await stream.ReadAtLeastAsync(head, 2, throwOnEndOfStream: false) < 2)
            return null;
        long length = head[1] & 0x7F;
        var extended = length == 126 ? 2 : length == 127 ? 8 : 0;
        var rest = new byte[extended + 4];
        await stream.ReadExactlyAsync(rest);
        if (extended > 0)
        {
            length = extended == 2
                ? BinaryPrimitives.ReadUInt16BigEndian(rest)
                : (long)BinaryPrimitives.ReadUInt64BigEndian(rest);
        }
        await stream.ReadExactlyAsync(new byte[length]);
        return head[0] & 0x0F;
    }

    [Fact]
    public async Task Send_ServerClosesWith1011WhileWaiting_Exits7NamingTheCode()
    {
        await using var kestrel = await KestrelEndpoint.StartAsync();
        var (exit, _, stderr) = await RunAsync("send", kestrel.Url, "close:1011", "--wait", "1", "--timeout", "5s");
        Assert.True(exit == 7, stderr);
        Assert.Contains("1011", stderr);
    }

    [Fact]
    public async Task Send_UnknownHost_Exits3()
    {
        var (exit, _, stderr) = await RunAsync("send", "--timeout", "5s", "ws://no-such-host.invalid/", "x");
        Assert.True(exit == 3, stderr);
    }

    [Fact]
    public async Task Send_BadArguments_Exit1WithAMessageNamingTheProblem()
    {
        var (exit, _, stderr) = await RunAsync("send", "http://example.invalid/", "x");
        Assert.Equal(1, exit);
        Assert.Contains("ws://", stderr);
        (exit, _, stderr) = await RunAsync("send", "127.0.0.1:1", "x", "--wait-for", "ready(");
        Assert.Equal(1, exit);
        Assert.Contains("--wait-for: expected a regular expression, got 'ready(' (Not enough )'s, at character 6)",
            stderr);
        (exit, _, stderr) = await RunAsync("send", "127.0.0.1:1", "zz", "--hex");
        Assert.Equal(1, exit);
        Assert.Contains("hex", stderr);
    }

    [Fact]
    public async Task ServeFull_SendExits5AndShows503()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--max-clients", "1", "--no-counter");
        using (serve)
        {
            using var holder = new System.Net.WebSockets.ClientWebSocket();
            await holder.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), CancellationToken.None);
            var (exit, _, stderr) = await RunAsync("send", $"ws://127.0.0.1:{port}/", "x");
            Assert.True(exit == 5, stderr);
            Assert.Contains("503", stderr);
        }
    }

    [Fact]
    public async Task BroadcastThroughServe_ReachesEveryClient_PrintsTheCount_SocketIsPrivate()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter", "--json");
        using (serve)
        {
            var clients = new List<System.Net.WebSockets.ClientWebSocket>();
            for (var i = 0; i < 3; i++)
            {
                var c = new System.Net.WebSockets.ClientWebSocket();
                await c.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), CancellationToken.None);
                clients.Add(c);
            }
            var socketPath = ControlSocketPath.For(port);
            Assert.True(File.Exists(socketPath), socketPath);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socketPath));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                File.GetUnixFileMode(Path.GetDirectoryName(socketPath)!));

            // Wait until serve has all three in its table (their open events), then broadcast.
            await serve.WaitForStdoutAsync(
                _ => serve.StdoutLines.Count(l => l.Contains("\"type\":\"open\"", StringComparison.Ordinal)) == 3,
                Timeout);
            var (exit, stdout, stderr) = await RunAsync(
                "broadcast", "to-everyone", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(exit == 0, stderr);
            Assert.Equal("delivered to 3 clients", stdout.Trim());
            foreach (var c in clients)
            {
                var buffer = new byte[256];
                using var cts = new CancellationTokenSource(Timeout);
                var got = await c.ReceiveAsync(buffer, cts.Token);
                Assert.Equal("to-everyone", Encoding.UTF8.GetString(buffer, 0, got.Count));
            }

            (exit, stdout, stderr) = await RunAsync(
                "broadcast",
                "--list",
                "--json",
                "--port",
                port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(exit == 0, stderr);
            var rows = stdout.Trim().Split('\n')[..^1];
            Assert.Equal(3, rows.Length);
            Assert.All(rows, r => Assert.Contains("\"remote\":\"127.0.0.1:", r));
            Assert.Contains("\"type\":\"result\"", stdout.Trim().Split('\n')[^1], StringComparison.Ordinal);

            // To one client by id: the id of the first row.
            var id = System.Text.Json.JsonDocument.Parse(rows[0]).RootElement.GetProperty("id").GetInt32();
            (exit, _, stderr) = await RunAsync(
                "send",
                "--client",
                id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "just-you",
                "--port",
                port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(exit == 0, stderr);

            (exit, _, stderr) = await RunAsync(
                "send",
                "--client",
                "999",
                "nobody",
                "--port",
                port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(1, exit); // a wrong id is a usage error
            Assert.Contains("no client 999", stderr);
            (exit, _, stderr) = await RunAsync("send", "--client", "999", "nobody", "--log-format", "json",
                "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(1, exit);
            var error = System.Text.Json.JsonDocument.Parse(stderr.Trim().Split('\n')[^1]).RootElement;
            Assert.Equal("log", error.GetProperty("type").GetString());
            Assert.Equal("error", error.GetProperty("level").GetString());
            Assert.Contains("no client 999", error.GetProperty("message").GetString());
            foreach (var c in clients)
                c.Dispose();
            serve.Signal("INT");
            Assert.Equal(0, await serve.WaitForExitAsync(Timeout));
        }
        Assert.False(File.Exists(ControlSocketPath.For(port)), "serve must remove its control socket on exit");
    }

    [Fact]
    public async Task Broadcast_WithNoServeOnThePort_Exits4WithAHint()
    {
        var (exit, _, stderr) = await RunAsync(
            "broadcast", "x", "--port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(4, exit);
        Assert.Contains("wsctl serve --port", stderr);
    }

    [Fact]
    public async Task BroadcastTo_OneDeadTarget_Exits9_AllDead_ExitsWithTheFirstFailure()
    {
        await using var kestrel = await KestrelEndpoint.StartAsync();
        var dead = $"ws://127.0.0.1:{FreePort()}/";
        var (exit, stdout, stderr) = await RunAsync("broadcast", "fw=1.2", "--to", kestrel.Url, "--to", dead);
        Assert.True(exit == 9, stderr + stdout);
        Assert.Contains("ok", stdout);
        Assert.Contains("failed", stdout);
        Assert.Equal("fw=1.2", Encoding.UTF8.GetString(kestrel.Received.Single()));

        (exit, stdout, _) = await RunAsync(
            "broadcast", "x", "--to", dead, "--to", "ws://no-such-host.invalid/", "--json");
        Assert.Equal(4, exit);
        // A line per target, then the result.
        Assert.Equal(3, stdout.Trim().Split('\n').Length);
    }
}
