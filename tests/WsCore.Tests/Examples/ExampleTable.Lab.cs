using System.Text.Json;
using WsCore.Tests.Support;

namespace WsCore.Tests.Examples;

/// <summary>
/// The rows that run in the <see cref="ExampleLab"/>: as written, on a network of namespaces where esp32ws.local is
/// a device at 192.168.1.40 (and esp32-a.local, esp32-b.local others), each a wsctl serve on port 8080 answering its
/// mDNS name, and where the default port 8080 is free because the namespace is new.
/// </summary>
public static partial class ExampleTable
{
    /// <summary>How the lab's devices run unless a row says otherwise: echoing, a counter every 500 ms.</summary>
    private static readonly string[] DeviceArgs = ["--echo", "--counter-interval", "500ms"];

    private const string Board = "the lab's esp32ws: serve --echo --counter-interval 500ms on 192.168.1.40:8080, " +
        "answering esp32ws.local";

    private static Example[] LabRows() =>
    [
        new("wsctl probe esp32ws.local", ExampleFixture.Lab, Board, AsWritten,
            "exit 0, every stage ok and 'verdict: healthy'",
            async run =>
            {
                var lab = await run.Shared.LabAsync();
                await lab.DeviceAsync("esp32ws", DeviceArgs);
                var probe = await run.RunAsync(run.Command(), lab.DeskNamespace);
                ExitCode(0, probe);
                Assert.Contains("verdict: healthy", probe.Stdout);
                Assert.Contains(ExampleLab.BoardAddress, probe.Stdout);
            }),
        new("wsctl probe ws://192.168.1.40:8080/ --count 10 --wait-message 0 --json", ExampleFixture.Lab, Board,
            AsWritten,
            "exit 0 and one JSON result: healthy, 10 ping round trips",
            async run =>
            {
                var lab = await run.Shared.LabAsync();
                await lab.DeviceAsync("esp32ws", DeviceArgs);
                var probe = await run.RunAsync(run.Command(), lab.DeskNamespace);
                ExitCode(0, probe);
                var result = JsonDocument.Parse(Assert.Single(probe.StdoutLines)).RootElement;
                Assert.Equal("healthy", result.GetProperty("verdict").GetString());
                Assert.Equal(10, result.GetProperty("rtt").GetProperty("count").GetInt32());
            }),
        new("wsctl probe --discover", ExampleFixture.Lab, Board + " (and any other device of the lab then)",
            AsWritten,
            "exit 0 (every device found is healthy), esp32ws listed and probed",
            run => DiscoverAsync(run)),
        new("wsctl probe --discover --timeout 3s", ExampleFixture.Lab,
            Board + " (and any other device of the lab then)",
            AsWritten,
            "exit 0 (every device found is healthy), esp32ws listed and probed",
            run => DiscoverAsync(run)),
        new("wsctl send esp32ws.local", ExampleFixture.Lab, Board + "; a terminal (script(1))", AsWritten,
            "an interactive session: a line typed is sent and its echo shown ('< hello'); Ctrl-D ends it with 0",
            run => InteractiveAsync(run)),
        new("wsctl send ws://192.168.1.40:8080/", ExampleFixture.Lab, Board + "; a terminal (script(1))", AsWritten,
            "an interactive session: a line typed is sent and its echo shown ('< hello'); Ctrl-D ends it with 0",
            run => InteractiveAsync(run)),
        new("wsctl send esp32ws.local '{\"cmd\":\"led\",\"on\":true}' --wait 1", ExampleFixture.Lab,
            "the lab's esp32ws as a board that answers each command (serve --echo --no-counter: no counter message " +
            "can come before the reply)",
            AsWritten,
            "exit 0, the reply (the command echoed) printed, and nothing else",
            async run =>
            {
                var lab = await run.Shared.LabAsync();
                await lab.DeviceAsync("esp32ws", "--echo", "--no-counter");
                var send = await run.RunAsync(run.Command(), lab.DeskNamespace);
                ExitCode(0, send);
                Assert.Equal(["{\"cmd\":\"led\",\"on\":true}"], send.StdoutLines);
            }),
        new("sensor-reader | wsctl send ws://192.168.1.40:8080/", ExampleFixture.Lab,
            Board + "; sensor-reader: a stand-in on PATH printing three readings, one a line",
            AsWritten,
            "exit 0; the board received each line as one message",
            async run =>
            {
                var lab = await run.Shared.LabAsync();
                var board = await lab.DeviceAsync("esp32ws", DeviceArgs);
                var mark = board.Mark;
                ExitCode(0, await run.RunAsync(run.Command(), lab.DeskNamespace));
                foreach (var reading in (string[])["{\"temp\":21.5}", "{\"temp\":21.6}", "{\"temp\":21.7}"])
                    await board.WaitForMessageAsync(reading, mark);
            }),
        new("wsctl send esp32ws.local --listen --json < /dev/null", ExampleFixture.Lab, Board, AsWritten,
            "the counters the board pushes, one JSON object a line, until the board closes (its serve stopped): " +
            "then exit 0 with an ok result",
            async run =>
            {
                var lab = await run.Shared.LabAsync();
                await lab.DeviceAsync("esp32ws", DeviceArgs);
                var send = run.Start(run.Command(), lab.DeskNamespace);
                await send.WaitForStdoutAsync(l => l.Contains("counter", StringComparison.Ordinal), ExampleRun.Timeout);
                await lab.StopDeviceAsync("esp32ws");
                ExitCode(0, await Exited(send));
                var last = JsonDocument.Parse(send.StdoutLines[^1]).RootElement;
                Assert.Equal("result", last.GetProperty("type").GetString());
                Assert.True(last.GetProperty("ok").GetBoolean(), send.All);
            }),
        new("wsctl broadcast 'fw=1.2' --to esp32-a.local --to esp32-b.local", ExampleFixture.Lab,
            "the lab's esp32-a and esp32-b (serve --echo --counter-interval 500ms, each in its own namespace)",
            AsWritten,
            "exit 0, one result line per device, and each device received 'fw=1.2'",
            run => BroadcastToBothAsync(run, json: false)),
        new("wsctl broadcast 'fw=1.2' --to esp32-a.local --to esp32-b.local --json", ExampleFixture.Lab,
            "the lab's esp32-a and esp32-b (serve --echo --counter-interval 500ms, each in its own namespace)",
            AsWritten,
            "exit 0, a target object per device (ok) and the result, and each device received 'fw=1.2'",
            run => BroadcastToBothAsync(run, json: true)),
        new("wsctl broadcast '{\"cmd\":\"led\",\"on\":false}' --discover", ExampleFixture.Lab,
            Board + " (and any other device of the lab then)",
            AsWritten,
            "exit 0; the board received the message",
            async run =>
            {
                var lab = await run.Shared.LabAsync();
                var board = await lab.DeviceAsync("esp32ws", DeviceArgs);
                var mark = board.Mark;
                ExitCode(0, await run.RunAsync(run.Command(), lab.DeskNamespace));
                await board.WaitForMessageAsync("{\"cmd\":\"led\",\"on\":false}", mark);
            }),
        new("wsctl bench esp32ws.local --clients 5 --duration 30s", ExampleFixture.Lab,
            Board + " (at most 5 clients, as the firmware)",
            [ShortBench(" --duration 30s")],
            "exit 0: 5 of 5 connected, ping round trips with latency percentiles, nothing lost; the counters " +
            "skipped as unsolicited",
            async run =>
            {
                var lab = await run.Shared.LabAsync();
                await lab.DeviceAsync("esp32ws", DeviceArgs);
                var bench = await run.RunAsync(run.Command(), lab.DeskNamespace);
                ExitCode(0, bench);
                Assert.Contains("5/5 connected", bench.Stdout);
                Assert.Contains("  lost:     0", bench.Stdout);
            }),
        new("wsctl serve", ExampleFixture.Lab,
            "a new namespace of the lab, where port 8080 is free (it is the server)",
            AsWritten,
            "it listens on 8080 with the test page at http://localhost:8080/ (200, the page's HTML); Ctrl-C ends it " +
            "with 0",
            async run =>
            {
                var lab = await run.Shared.LabAsync();
                var (ns, _) = await lab.AddNamespaceAsync();
                var serve = await run.StartServeLineAsync(run.Command(), ns);
                Assert.Equal(8080, serve.Port);
                // The page, fetched as a browser on that machine would (bash's /dev/tcp: no curl needed).
                var page = await run.RunAsync("exec 3<>/dev/tcp/localhost/8080 && printf 'GET / HTTP/1.1\\r\\n" +
                    "Host: localhost:8080\\r\\nConnection: close\\r\\n\\r\\n' >&3 && cat <&3", ns);
                ExitCode(0, page);
                Assert.StartsWith("HTTP/1.1 200", page.StdoutLines[0]);
                Assert.Contains("new WebSocket", page.Stdout);
                await serve.StopAsync();
            }),
        new("wsctl serve --json --counter-interval 1s > events.jsonl", ExampleFixture.Lab,
            "a new namespace of the lab, where port 8080 is free; a client (wsctl send from the desk namespace)",
            AsWritten,
            "it listens on 8080; the client gets a counter within the second; events.jsonl holds the open, the " +
            "client's text and the close as JSON lines; Ctrl-C ends it with 0",
            async run =>
            {
                var lab = await run.Shared.LabAsync();
                var (ns, address) = await lab.AddNamespaceAsync();
                var serve = await run.StartServeLineAsync(run.Command(), ns);
                var send = await run.RunAsync($"wsctl send {address}:8080 hi --wait 1", lab.DeskNamespace);
                ExitCode(0, send);
                Assert.Contains("\"sensor\":\"counter\"", send.Stdout);
                await serve.StopAsync();
                var events = (await File.ReadAllLinesAsync(Path.Combine(run.WorkDirectory, "events.jsonl")))
                    .Select(l => JsonDocument.Parse(l).RootElement)
                    .ToList();
                // The JSON contract's last object is the run's result.
                Assert.Equal(["open", "text", "close", "result"],
                    events.Select(e => e.GetProperty("type").GetString()));
                Assert.Equal("hi", events[1].GetProperty("data").GetString());
            }),
        new("wsctl serve --mdns-name benchhost", ExampleFixture.Lab,
            "a new namespace of the lab, where port 8080 is free; its comment's 'wsctl probe benchhost.local' run " +
            "from the desk namespace",
            AsWritten,
            "it listens on 8080 and answers benchhost.local: the probe exits 0, healthy; Ctrl-C ends it with 0",
            async run =>
            {
                var lab = await run.Shared.LabAsync();
                var (ns, address) = await lab.AddNamespaceAsync();
                var serve = await run.StartServeLineAsync(run.Command(), ns);
                await serve.Shell.WaitForStderrAsync(
                    l => l.Contains("mDNS: answering", StringComparison.Ordinal), ExampleRun.Timeout);
                var probe = await run.RunAsync("wsctl probe benchhost.local", lab.DeskNamespace);
                ExitCode(0, probe);
                Assert.Contains("verdict: healthy", probe.Stdout);
                Assert.Contains(address, probe.Stdout);
                await serve.StopAsync();
            }),
        new("wsctl serve --tls-self-signed", ExampleFixture.Lab,
            "a new namespace of the lab, where port 8080 is free (it is the server)",
            AsWritten,
            "it listens on wss:// with the test page at https://localhost:8080/ and logs its certificate's SHA-256 " +
            "fingerprint; wsctl send wss://localhost:8080/ with --pin of that fingerprint delivers; Ctrl-C ends it " +
            "with 0",
            async run =>
            {
                var lab = await run.Shared.LabAsync();
                var (ns, _) = await lab.AddNamespaceAsync();
                var serve = await run.StartServeLineAsync(run.Command(), ns);
                Assert.Contains(serve.Shell.StderrLines,
                    l => l.Contains("listening on wss://", StringComparison.Ordinal)
                        && l.Contains("test page https://localhost:8080/", StringComparison.Ordinal));
                await SendPinnedAsync(run, serve, ns, "over tls");
                await serve.StopAsync();
            }),
        new("wsctl serve --tls-cert fullchain.pem --tls-key privkey.pem", ExampleFixture.Lab,
            "a new namespace of the lab, where port 8080 is free; fullchain.pem and privkey.pem in the working " +
            "directory (a test PKI's server certificate for localhost and its intermediate, and its key)",
            AsWritten,
            "it listens on wss:// with that certificate (its fingerprint logged); a pinned wsctl send delivers; " +
            "after new files and kill -HUP (the comment) it serves the new certificate; Ctrl-C ends it with 0",
            async run =>
            {
                using var pki = TestPki.Create();
                File.Copy(pki.ChainFile, Path.Combine(run.WorkDirectory, "fullchain.pem"));
                File.Copy(pki.KeyFile, Path.Combine(run.WorkDirectory, "privkey.pem"));
                var lab = await run.Shared.LabAsync();
                var (ns, _) = await lab.AddNamespaceAsync();
                var serve = await run.StartServeLineAsync(run.Command(), ns);
                Assert.Equal(pki.ServerFingerprint, await SendPinnedAsync(run, serve, ns, "first certificate"));
                pki.IssueServerCertificate();
                File.Copy(pki.ChainFile, Path.Combine(run.WorkDirectory, "fullchain.pem"), overwrite: true);
                File.Copy(pki.KeyFile, Path.Combine(run.WorkDirectory, "privkey.pem"), overwrite: true);
                serve.Shell.Signal("HUP");
                await serve.Shell.WaitForStderrAsync(
                    l => l.Contains("TLS certificate reloaded", StringComparison.Ordinal)
                        && l.Contains(pki.ServerFingerprint, StringComparison.Ordinal), ExampleRun.Timeout);
                var pinned = await run.RunAsync(
                    $"wsctl send wss://localhost:8080/ 'second certificate' --pin {pki.ServerFingerprint}", ns);
                ExitCode(0, pinned);
                await serve.StopAsync();
            }),
        new("wsctl broadcast --list", ExampleFixture.Lab,
            "a wsctl serve on port 8080 (the default) in a new namespace of the lab, with 2 clients (wsctl send " +
            "--listen from the desk namespace); the example runs beside the serve, in its namespace",
            AsWritten,
            "exit 0: a header (ID, REMOTE, CONNECTED SINCE, IN, OUT: the comment's id, address, connected since, " +
            "messages in/out) and both clients, with their address",
            async run =>
            {
                var (ns, _) = await ServeWithTwoClientsAsync(run);
                var list = await run.RunAsync(run.Command(), ns);
                ExitCode(0, list);
                Assert.Matches(@"^\s*ID\s+REMOTE\s+CONNECTED SINCE\s+IN\s+OUT$", list.StdoutLines[0]);
                Assert.Equal(2,
                    list.StdoutLines.Count(l => l.Contains(ExampleLab.DeskAddress, StringComparison.Ordinal)));
            }),
        new("wsctl send --client 2 'just you'", ExampleFixture.Lab,
            "a wsctl serve on port 8080 (the default) in a new namespace of the lab, with 2 clients (wsctl send " +
            "--listen from the desk namespace, ids 1 and 2); the example runs beside the serve, in its namespace",
            AsWritten,
            "exit 0 ('sent 1 message(s) to client 2'); client 2 printed 'just you', client 1 did not",
            async run =>
            {
                var (ns, clients) = await ServeWithTwoClientsAsync(run);
                var send = await run.RunAsync(run.Command(), ns);
                ExitCode(0, send);
                Assert.Equal(["sent 1 message(s) to client 2"], send.StdoutLines);
                await clients[1].WaitForStdoutAsync(l => l == "just you", ExampleRun.Timeout);
                Assert.DoesNotContain("just you", clients[0].StdoutLines);
            }),
    ];

    private static async Task DiscoverAsync(ExampleRun run)
    {
        var lab = await run.Shared.LabAsync();
        await lab.DeviceAsync("esp32ws", DeviceArgs);
        var probe = await run.RunAsync(run.Command(), lab.DeskNamespace);
        ExitCode(0, probe);
        Assert.Contains("esp32ws", probe.Stdout);
        Assert.Contains(ExampleLab.BoardAddress, probe.Stdout);
    }

    private static async Task InteractiveAsync(ExampleRun run)
    {
        var lab = await run.Shared.LabAsync();
        await lab.DeviceAsync("esp32ws", DeviceArgs);
        var environment = new Dictionary<string, string>(run.Environment)
        {
            ["XDG_RUNTIME_DIR"] = lab.RuntimeDirectoryOf(lab.DeskNamespace),
        };
        using var session = TerminalSession.Shell(
            $"ip netns exec {lab.DeskNamespace} bash -c {ShellQuote(run.Command())}", environment, run.WorkDirectory);
        await session.WaitForAsync("> ", ExampleRun.Timeout);
        await session.TypeAsync("hello\r");
        await session.WaitForAsync("< hello", ExampleRun.Timeout);
        await session.TypeAsync("\u0004");
        Assert.True(await session.WaitForExitAsync(ExampleRun.Timeout) == 0, session.Screen);
    }

    private static async Task BroadcastToBothAsync(ExampleRun run, bool json)
    {
        var lab = await run.Shared.LabAsync();
        LabDevice[] devices =
            [await lab.DeviceAsync("esp32-a", DeviceArgs), await lab.DeviceAsync("esp32-b", DeviceArgs)];
        var marks = devices.Select(d => d.Mark).ToArray();
        var broadcast = await run.RunAsync(run.Command(), lab.DeskNamespace);
        ExitCode(0, broadcast);
        for (var i = 0; i < devices.Length; i++)
        {
            await devices[i].WaitForMessageAsync("fw=1.2", marks[i]);
            Assert.Contains($"{devices[i].Name}.local", broadcast.Stdout);
        }
        if (json)
        {
            var targets = broadcast.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement)
                .Where(o => o.GetProperty("type").GetString() == "target")
                .ToList();
            Assert.Equal(2, targets.Count);
            Assert.All(targets, t => Assert.True(t.GetProperty("ok").GetBoolean(), broadcast.All));
        }
        else
            Assert.Equal(2, broadcast.StdoutLines.Count(l => l.Contains(".local", StringComparison.Ordinal)));
    }

    /// <summary>A serve on 8080 in a new namespace, two clients from the desk connected in order (ids 1, 2).</summary>
    private static async Task<(string Namespace, ShellProcess[] Clients)> ServeWithTwoClientsAsync(
        ExampleRun run)
    {
        var lab = await run.Shared.LabAsync();
        var (ns, address) = await lab.AddNamespaceAsync();
        var serve = await run.StartServeLineAsync("wsctl serve --no-counter", ns);
        var clients = new ShellProcess[2];
        for (var i = 0; i < clients.Length; i++)
        {
            clients[i] = run.Start($"wsctl send {address}:8080 --listen", lab.DeskNamespace);
            await serve.Shell.WaitForStderrAsync(
                l => l.Contains($"client {i + 1} connected from", StringComparison.Ordinal), ExampleRun.Timeout);
        }
        return (ns, clients);
    }

    /// <summary>
    /// Sends <paramref name="message"/> to a TLS serve on localhost:8080 in <paramref name="ns"/>, pinning the
    /// fingerprint it logged; asserts it arrived; returns the fingerprint.
    /// </summary>
    private static async Task<string> SendPinnedAsync(ExampleRun run, ServeLine serve, string ns, string message)
    {
        var logged = await serve.Shell.WaitForStderrAsync(
            l => l.Contains("SHA-256 fingerprint ", StringComparison.Ordinal), ExampleRun.Timeout);
        var fingerprint = logged[(logged.IndexOf("SHA-256 fingerprint ", StringComparison.Ordinal) + 20)..]
            .Split(' ', ';', ')')[0];
        var mark = serve.Shell.StdoutLines.Count;
        var send = await run.RunAsync($"wsctl send wss://localhost:8080/ '{message}' --pin {fingerprint}", ns);
        ExitCode(0, send);
        await serve.Shell.WaitForStdoutAsync(l => l == message, ExampleRun.Timeout, mark);
        return fingerprint;
    }

    /// <summary><paramref name="text"/> as one single-quoted shell word.</summary>
    private static string ShellQuote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
