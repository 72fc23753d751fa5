using System.Diagnostics;
using System.Text.Json;
using WsCore.Tests.Examples;
using WsCore.Tests.Support;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;
using Wsctl.Cli;

namespace WsCore.Tests.Send;

/// <summary>
/// <c>wsctl send</c> ends on every path: every combination of how stdin behaves, what the run waits for and what the
/// server does, run as a real process against a real server, ends with the code the README gives it within its
/// --timeout. (A send that printed the reply and then waited forever for a server that never closed was the bug.)
/// </summary>
public sealed class SendMatrixTests
{
    public enum Stdin
    {
        /// <summary>One line, then end of input.</summary>
        Closed,
        /// <summary>A line, a pause, a second line, then end of input.</summary>
        Slow,
        /// <summary>One line, and stdin stays open.</summary>
        Open,
    }

    public enum Peer
    {
        /// <summary>Pushes "tick" every 100 ms and answers nothing (a device's counter).</summary>
        Pushes,
        /// <summary>Echoes each message.</summary>
        Echoes,
        /// <summary>Closes with 1000 on the first message.</summary>
        Closes,
        /// <summary>Says nothing, closes nothing.</summary>
        Silent,
    }

    private const string RunLimit = "2s";
    // How long a run may take beyond its --timeout: the process start (dotnet), not the verb.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // Exit codes: 0 ok, 6 timeout (the run limit), 7 the connection ended other than as asked.
    public static TheoryData<Stdin, string, Peer, int> Cases()
    {
        var data = new TheoryData<Stdin, string, Peer, int>();
        // wait: "" none, "1" one message, "match" a message matching ^ping.
        foreach (var (stdin, wait, p, e, c, s) in new (Stdin, string, int, int, int, int)[]
        {
            (Stdin.Closed, "", 0, 0, 0, 0),
            (Stdin.Closed, "1", 0, 0, 7, 6),
            (Stdin.Closed, "match", 6, 0, 7, 6),
            // The peer that closes on the first message does so before the second line is sent.
            (Stdin.Slow, "", 0, 0, 7, 0),
            (Stdin.Slow, "1", 0, 0, 7, 6),
            (Stdin.Slow, "match", 6, 0, 7, 6),
            // stdin's lines are sent until stdin ends, and the wait begins then: an open stdin runs into --timeout.
            (Stdin.Open, "", 6, 6, 7, 6),
            (Stdin.Open, "1", 6, 6, 7, 6),
            (Stdin.Open, "match", 6, 6, 7, 6),
        })
        {
            data.Add(stdin, wait, Peer.Pushes, p);
            data.Add(stdin, wait, Peer.Echoes, e);
            data.Add(stdin, wait, Peer.Closes, c);
            data.Add(stdin, wait, Peer.Silent, s);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Send_EndsWithItsCode_WithinTheRunLimit(Stdin stdin, string wait, Peer peer, int expected)
    {
        await using var server = StartPeer(peer);
        string[] waitArgs = wait switch
        {
            "" => [],
            "match" => ["--wait-for", "^ping"],
            _ => ["--wait", wait],
        };
        using var send = WsctlProcess.Start(
            ["send", server.Uri.ToString(), "--timeout", RunLimit, "--json", .. waitArgs], null);
        var clock = Stopwatch.StartNew();
        try
        {
            await send.StandardInput.WriteLineAsync("ping");
            await send.StandardInput.FlushAsync();
            if (stdin == Stdin.Slow)
            {
                // Slow as seen from the connection: the second line comes well after the peer had the first.
                await WaitUntilAsync(() => Volatile.Read(ref server.Received) > 0 || send.HasExited);
                await Task.Delay(500);
                await send.StandardInput.WriteLineAsync("ping again");
            }
            if (stdin != Stdin.Open)
                send.StandardInput.Close();
        }
        catch (IOException)
        {
            // wsctl ended before reading all of stdin (the peer closed): the exit code says how.
        }

        var exit = await send.WaitForExitAsync(Bound);
        Assert.True(exit == expected, $"exit {exit}, expected {expected} after {clock.Elapsed}; stdout:\n" +
            $"{send.Stdout}\nstderr:\n{send.Stderr}");
        // Every way out ends with the result object, saying the same as the exit code.
        var result = JsonDocument.Parse(send.StdoutLines[^1]).RootElement;
        Assert.Equal("result", result.GetProperty("type").GetString());
        Assert.Equal(expected, result.GetProperty("exit_code").GetInt32());
        if (peer == Peer.Echoes && stdin != Stdin.Open)
            Assert.Contains(send.StdoutLines, line => line.Contains("\"data\":\"ping\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Listen_Interrupted_ClosesWithGoingAway_Exits130_WithTheResult()
    {
        await using var server = StartPeer(Peer.Pushes);
        using var send = WsctlProcess.Start(["send", server.Uri.ToString(), "--listen", "--json"], null);
        send.StandardInput.Close();
        await send.WaitForStdoutAsync(line => line.Contains("tick", StringComparison.Ordinal), Bound);
        send.Signal("INT");
        Assert.Equal(130, await send.WaitForExitAsync(Bound));
        var result = JsonDocument.Parse(send.StdoutLines[^1]).RootElement;
        Assert.Equal(130, result.GetProperty("exit_code").GetInt32());
        Assert.Equal("interrupted", result.GetProperty("error").GetString());
        await WaitUntilAsync(() => server.Events.OfType<ClientDisconnected>().Any());
        Assert.Equal(CloseStatus.GoingAway, server.Events.OfType<ClientDisconnected>().Single().CloseCode);
    }

    [Fact]
    public async Task Listen_ServerClosesNormally_Exits0()
    {
        await using var server = StartPeer(Peer.Closes);
        var result = await WsctlProcess.RunAsync(["send", server.Uri.ToString(), "bye", "--listen"], timeout: Bound);
        Assert.True(result.ExitCode == 0, result.All);
    }

    [Fact]
    public async Task WaitDuration_PrintsWhatArrives_ThenClosesNormally()
    {
        await using var server = StartPeer(Peer.Pushes);
        var result = await WsctlProcess.RunAsync(["send", server.Uri.ToString(), "hi", "--wait", "700ms"],
            timeout: Bound);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("tick", result.Stdout, StringComparison.Ordinal);
        await WaitUntilAsync(() => server.Events.OfType<ClientDisconnected>().Any());
        Assert.Equal(CloseStatus.NormalClosure, server.Events.OfType<ClientDisconnected>().Single().CloseCode);
    }

    [Fact]
    public async Task Quiet_PrintsOnlyTheMessageTheWaitAskedFor()
    {
        await using var server = StartPeer(Peer.Echoes, pushAlso: true);
        var result = await WsctlProcess.RunAsync(
            ["send", server.Uri.ToString(), "ping", "--wait-for", "^ping$", "-q"], timeout: Bound);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal("ping", result.Stdout.Trim());
    }

    // A wait for a time or for the server's close asks for whatever arrives: -q drops the logs, not those messages
    // (it once printed nothing at all with --listen, received messages counted but never shown).
    [Fact]
    public async Task Quiet_WaitDuration_StillPrintsWhatArrives()
    {
        await using var server = StartPeer(Peer.Pushes);
        var result = await WsctlProcess.RunAsync(["send", server.Uri.ToString(), "hi", "--wait", "700ms", "-q"],
            timeout: Bound);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.StartsWith("tick\n", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quiet_Listen_StillPrintsWhatArrives()
    {
        await using var server = StartPeer(Peer.Pushes);
        using var send = WsctlProcess.Start(["send", server.Uri.ToString(), "--listen", "-q"], null);
        send.StandardInput.Close();
        await send.WaitForStdoutAsync(line => line == "tick", Bound);
        send.Signal("INT");
        Assert.Equal(130, await send.WaitForExitAsync(Bound));
    }

    // `send --listen | head -1`: once the reader of stdout has gone, the next write fails (EPIPE) and send closes with
    // 1000 and exits 0, as a user's pipeline expects; it used to listen on forever, its writes dropped unseen.
    [Fact]
    public async Task Listen_IntoAPipeWhoseReaderLeft_ClosesNormally_Exits0()
    {
        await using var server = StartPeer(Peer.Pushes);
        using var shell = ShellProcess.Start(
            $"dotnet '{WsctlProcess.DllPath}' send {server.Uri} --listen </dev/null | head -1; " +
            "echo \"send exit ${PIPESTATUS[0]}\"", Path.GetTempPath(), new Dictionary<string, string>());
        Assert.Equal(0, await shell.WaitForExitAsync(Bound));
        Assert.True(shell.StdoutLines is ["tick", "send exit 0"], shell.All);
        await WaitUntilAsync(() => server.Events.OfType<ClientDisconnected>().Any());
        Assert.Equal(CloseStatus.NormalClosure, server.Events.OfType<ClientDisconnected>().Single().CloseCode);
    }

    // --wait-for matches in linear time where the pattern allows: a message that makes a backtracking engine run for
    // ages (nested quantifiers, no match) passes, and the next message matches.
    [Fact]
    public async Task WaitFor_NestedQuantifiers_NoRunawayMatch()
    {
        await using var server = StartPeer(Peer.Echoes);
        var runaway = new string('a', 60) + "!";
        var result = await WsctlProcess.RunAsync(["send", server.Uri.ToString(), "--wait-for", "^(a+)+$", "-q"],
            stdin: $"{runaway}\naaaa\n", timeout: Bound);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal("aaaa", result.Stdout.Trim());
    }

    // A pattern the linear engine cannot run (a lookahead) keeps the backtracking one, bounded per match: a message
    // that makes it run away ends the run with exit 1 and what to do, not a connection failure.
    [Fact]
    public async Task WaitFor_BacktrackingPatternRunsAway_Exits1_SayingSo()
    {
        await using var server = StartPeer(Peer.Echoes);
        var result = await WsctlProcess.RunAsync(
            ["send", server.Uri.ToString(), new string('a', 60) + "!", "--wait-for", "^(a+)+(?=b)"], timeout: Bound);
        Assert.True(result.ExitCode == 1, result.All);
        Assert.Contains("--wait-for: matching /^(a+)+(?=b)/ against a message took over 1s", result.Stderr,
            StringComparison.Ordinal);
        Assert.Contains("simplify it", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>A server playing one of the <see cref="Peer"/> parts, counting the messages it received.</summary>
    private sealed class MatrixPeer : IAsyncDisposable
    {
        public int Received;

        public MatrixPeer(Peer peer, bool pushAlso)
        {
            Server = TestServer.Start(echo: false, configure: options =>
            {
                options.PublishMessageEvents = false;
                options.MessageHandler = (s, id, type, payload) =>
                {
                    Interlocked.Increment(ref Received);
                    if (peer == Peer.Echoes)
                        s.Send(id, type, payload);
                    else if (peer == Peer.Closes)
                        s.CloseClient(id, CloseStatus.NormalClosure, "done");
                };
            });
            if (peer == Peer.Pushes || pushAlso)
                _ = PushAsync();
        }

        public TestServer Server { get; }

        public Uri Uri => Server.Uri;

        public IReadOnlyList<ServerEvent> Events => Server.Events;

        public ValueTask DisposeAsync() => Server.DisposeAsync();

        private async Task PushAsync()
        {
            try
            {
                using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
                while (await timer.WaitForNextTickAsync(Server.Stopping))
                    Server.Server.SendText(WebSocketServer.AllClients, "tick");
            }
            catch (OperationCanceledException)
            {
                // The server was disposed: the test is over.
            }
        }
    }

    private static MatrixPeer StartPeer(Peer peer, bool pushAlso = false) => new(peer, pushAlso);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var limit = new CancellationTokenSource(Bound);
        while (!condition())
            await Task.Delay(20, limit.Token);
    }
}
