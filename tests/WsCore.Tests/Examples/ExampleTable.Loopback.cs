using System.Text.Json;
using WsCore.Nvs;
using WsCore.Tests.Support;

namespace WsCore.Tests.Examples;

/// <summary>The rows that run against servers on loopback and files in the working directory.</summary>
public static partial class ExampleTable
{
    // The serve lines the bench examples start first ("a server that echoes, for:"), by port.
    private const string EchoServeLine = "wsctl serve --port 8081 --echo --no-counter --no-print &";
    private const string RelayServeLine =
        "wsctl serve --port 8082 --relay --max-clients 1000 --no-counter --no-print &";
    private const string IdleServeLine = "wsctl serve --port 8083 --max-clients 1000 --no-counter --no-print &";

    private static Substitution ServePortToZero(string port) =>
        Sub($"--port {port}", "--port 0", $"{port} → 0: the fixed port becomes a free one (the test reads which)");

    private static Substitution ToFixturePort(string find, string replace) =>
        Sub(find, replace, "the fixed port → the fixture serve's free port");

    private static Substitution ShortBench(string find) =>
        Sub(find, " --duration 2s", "shortened to 2 s: the measurement, not its length, is what the example shows");

    private static Example[] LoopbackRows() =>
    [
        new("wsctl send localhost:8080 hello --wait 3s", ExampleFixture.Loopback,
            "a fixture wsctl serve --echo --no-counter on a free port",
            [ToFixturePort("localhost:8080", "localhost:{port}")],
            "exit 0 after the 3 s, having printed the reply 'hello'",
            run => SendHelloWait3sAsync(run, "hello")),
        new("wsctl send localhost:8080 'hello' --wait 3s", ExampleFixture.Loopback,
            "a fixture wsctl serve --echo --no-counter on a free port",
            [ToFixturePort("localhost:8080", "localhost:{port}")],
            "exit 0 after the 3 s, having printed the reply 'hello'",
            run => SendHelloWait3sAsync(run, "hello")),
        new("wsctl send ws://dev/ --file fw.bin", ExampleFixture.Loopback,
            "a fixture wsctl serve on a free port standing for the device 'dev'; fw.bin (3000 bytes) in the working " +
            "directory",
            [Sub("ws://dev/", "ws://127.0.0.1:{port}/", "the host 'dev' (port 80) → the fixture serve on loopback")],
            "exit 0; serve received fw.bin whole as one binary message",
            async run =>
            {
                var (serve, port) = await run.StartServeAsync("--no-counter");
                var firmware = new byte[3000];
                new Random(22).NextBytes(firmware);
                await File.WriteAllBytesAsync(Path.Combine(run.WorkDirectory, "fw.bin"), firmware);
                var send = await run.RunAsync(run.Command(("port", port)));
                ExitCode(0, send);
                await serve.WaitForStdoutAsync(
                    l => l == $"[binary 3000 bytes] base64:{Convert.ToBase64String(firmware)}", ExampleRun.Timeout);
            }),
        new("wsctl send dev 'get' --wait-for '\"temp\"' --timeout 5s --json", ExampleFixture.Loopback,
            "a fixture wsctl serve on a free port standing for the device 'dev', which answers 'get' with " +
            "{\"temp\":21.5} (the test types that line into serve's stdin once 'get' came)",
            [Sub("send dev ", "send 127.0.0.1:{port} ", "the host 'dev' → the fixture serve on loopback")],
            "exit 0 once the matching message came: JSON lines, the text message with \"temp\", then an ok result",
            async run =>
            {
                var (serve, port) = await run.StartServeAsync("--no-counter");
                var send = run.Start(run.Command(("port", port)));
                await serve.WaitForStdoutAsync(l => l == "get", ExampleRun.Timeout);
                await serve.StandardInput.WriteLineAsync("{\"temp\":21.5}");
                await serve.StandardInput.FlushAsync();
                ExitCode(0, await Exited(send));
                var objects = send.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
                Assert.Contains(objects, o => o.GetProperty("type").GetString() == "text"
                    && o.GetProperty("data").GetString() == "{\"temp\":21.5}");
                Assert.True(objects[^1].GetProperty("ok").GetBoolean(), send.All);
            }),
        new("wsctl broadcast 'reboot' --port 8080", ExampleFixture.Loopback,
            "a fixture wsctl serve on a free port with 3 clients of the test's",
            [ToFixturePort("--port 8080", "--port {port}")],
            "exit 0, 'delivered to 3 clients' (the README's comment), and each client got 'reboot'",
            run => BroadcastToThreeAsync(run, "reboot")),
        new("wsctl broadcast '{\"cmd\":\"reboot\"}' --port 8080", ExampleFixture.Loopback,
            "a fixture wsctl serve on a free port with 3 clients of the test's",
            [ToFixturePort("--port 8080", "--port {port}")],
            "exit 0, 'delivered to 3 clients', and each client got {\"cmd\":\"reboot\"}",
            run => BroadcastToThreeAsync(run, "{\"cmd\":\"reboot\"}")),
        new("wsctl send --client 2 'hello, client 2' --port 8080", ExampleFixture.Loopback,
            "a fixture wsctl serve on a free port with 2 clients of the test's (ids 1 and 2, in that order)",
            [ToFixturePort("--port 8080", "--port {port}")],
            "exit 0 ('sent 1 message(s) to client 2'); client 2 got 'hello, client 2' and client 1 nothing",
            async run =>
            {
                var (_, port) = await run.StartServeAsync("--no-counter");
                var first = await run.ConnectAsync(port);
                var second = await run.ConnectAsync(port);
                var send = await run.RunAsync(run.Command(("port", port)));
                ExitCode(0, send);
                Assert.Equal(["sent 1 message(s) to client 2"], send.StdoutLines);
                await second.WaitForAsync("hello, client 2");
                Assert.Empty(first.Received);
            }),
        new("wsctl serve --port 0 --echo --no-counter", ExampleFixture.Loopback,
            "nothing: it is the server (port 0 as written)",
            AsWritten,
            "it listens on a free port it names, echoes a client's message, sends no counter, and Ctrl-C ends it " +
            "with 0",
            async run =>
            {
                var serve = await run.StartServeLineAsync(run.Command());
                var client = await run.ConnectAsync(serve.Port);
                await client.SendAsync("echo me");
                await client.WaitForAsync("echo me");
                Assert.Equal(["echo me"], client.Received);
                await serve.StopAsync();
            }),
        new("wsctl serve --port 8081 --cluster redis://127.0.0.1:6379", ExampleFixture.Loopback,
            "a private redis-server on a free loopback port (never the system's)",
            [ServePortToZero("8081"),
                Sub("redis://127.0.0.1:6379", "redis://127.0.0.1:{redis}", "6379 → the private Redis's free port")],
            "it joins the cluster on that Redis and listens; a client gets its counter; Ctrl-C ends it with 0",
            async run =>
            {
                var redis = run.Own(await RedisServer.StartNewAsync());
                var serve = await run.StartServeLineAsync(run.Command(("redis", redis.Port)));
                await serve.Shell.WaitForStderrAsync(
                    l => l.Contains($"joined cluster wsctl on redis://127.0.0.1:{redis.Port}",
                        StringComparison.Ordinal),
                    ExampleRun.Timeout);
                await serve.StopAsync();
            }),
        new(EchoServeLine, ExampleFixture.Loopback,
            "nothing: it is the server the next example (bench --mode echo) needs",
            [ServePortToZero("8081")],
            "started with '&' it listens; it echoes a message, prints nothing and sends no counter; Ctrl-C " +
            "(taken back from the '&') ends it with 0",
            async run =>
            {
                var serve = await run.StartServeLineAsync(run.Command());
                var client = await run.ConnectAsync(serve.Port);
                await client.SendAsync("echo me");
                await client.WaitForAsync("echo me");
                Assert.Equal(["echo me"], client.Received);
                await serve.StopAsync();
                Assert.Empty(serve.Shell.StdoutLines);
            }),
        new(RelayServeLine, ExampleFixture.Loopback,
            "nothing: it is the server the next example (bench --mode broadcast) needs",
            [ServePortToZero("8082")],
            "started with '&' it listens; a client's message reaches every client (6, beyond the default 5), it " +
            "prints nothing; Ctrl-C ends it with 0",
            async run =>
            {
                var serve = await run.StartServeLineAsync(run.Command());
                var clients = new List<TextClient>();
                for (var i = 0; i < 6; i++)
                    clients.Add(await run.ConnectAsync(serve.Port));
                await clients[0].SendAsync("to all");
                foreach (var client in clients)
                    await client.WaitForAsync("to all");
                await serve.StopAsync();
                Assert.Empty(serve.Shell.StdoutLines);
            }),
        new(IdleServeLine, ExampleFixture.Loopback,
            "nothing: it is the server the next example (bench --mode idle) needs",
            [ServePortToZero("8083")],
            "started with '&' it listens and takes more clients than the default 5 (6 here) without a counter; " +
            "Ctrl-C ends it with 0",
            async run =>
            {
                var serve = await run.StartServeLineAsync(run.Command());
                for (var i = 0; i < 6; i++)
                    await run.ConnectAsync(serve.Port);
                await serve.StopAsync();
            }),
        new("wsctl bench 127.0.0.1:8081 --mode echo --size 1024", ExampleFixture.Loopback,
            $"the serve of the line before it, started as written: {EchoServeLine}",
            [ToFixturePort("127.0.0.1:8081", "127.0.0.1:{port}"), ShortBench("")],
            "exit 0 (nothing lost): 1 of 1 connected, 1024-byte messages, latency percentiles, lost 0",
            run => BenchAsync(run, EchoServeLine, "echo ", "1/1 connected, 1024-byte messages", "  lost:     0")),
        new("wsctl bench 127.0.0.1:8082 --mode broadcast --clients 1000 --json", ExampleFixture.Loopback,
            $"the serve of the line before it, started as written: {RelayServeLine}",
            [ToFixturePort("127.0.0.1:8082", "127.0.0.1:{port}"), ShortBench("")],
            "exit 0: one JSON result, 1000 of 1000 connected, messages relayed, nothing lost",
            run => BenchBroadcastJsonAsync(run)),
        new("wsctl bench ws://127.0.0.1:8082/ --mode broadcast --clients 1000 --json", ExampleFixture.Loopback,
            $"the serve of the line before it, started as written: {RelayServeLine}",
            [ToFixturePort("ws://127.0.0.1:8082/", "ws://127.0.0.1:{port}/"), ShortBench("")],
            "exit 0: one JSON result, 1000 of 1000 connected, messages relayed, nothing lost",
            run => BenchBroadcastJsonAsync(run)),
        new("wsctl bench 127.0.0.1:8083 --mode idle --clients 1000", ExampleFixture.Loopback,
            $"the serve of the line before it, started as written: {IdleServeLine}",
            [ToFixturePort("127.0.0.1:8083", "127.0.0.1:{port}"), ShortBench("")],
            "exit 0: 1000 of 1000 connected and alive at the end",
            run => BenchAsync(run, IdleServeLine, "idle ", "1000/1000 connected", AllAlive)),
        new("wsctl bench 127.0.0.1:8083 --mode idle --clients 1000 --duration 20s", ExampleFixture.Loopback,
            $"the serve of the line before it, started as written: {IdleServeLine}",
            [ToFixturePort("127.0.0.1:8083", "127.0.0.1:{port}"), ShortBench(" --duration 20s")],
            "exit 0: 1000 of 1000 connected and alive at the end",
            run => BenchAsync(run, IdleServeLine, "idle ", "1000/1000 connected", AllAlive)),
        CompletionRow("mkdir -p ~/.local/share/bash-completion/completions && wsctl completion bash > " +
            "~/.local/share/bash-completion/completions/wsctl", ".local/share/bash-completion/completions/wsctl",
            "wsctl.bash", "bash", "-n"),
        CompletionRow("mkdir -p ~/.zfunc && wsctl completion zsh > ~/.zfunc/_wsctl", ".zfunc/_wsctl",
            "_wsctl", "zsh", "-n"),
        CompletionRow("mkdir -p ~/.config/fish/completions && wsctl completion fish > " +
            "~/.config/fish/completions/wsctl.fish", ".config/fish/completions/wsctl.fish", "wsctl.fish", "fish", "-n"),
        new("wsctl flash --ssid MyNet --pass - --nvs-out nvs.bin < wifi-pass.txt", ExampleFixture.Loopback,
            "wifi-pass.txt (a password line) in the working directory; no device",
            AsWritten,
            "exit 0; nvs.bin is written with mode 0600, the NVS image of MyNet and that password; the password is " +
            "in no output",
            async run =>
            {
                run.WriteFile("wifi-pass.txt", WifiPassword + "\n");
                var flash = await run.RunAsync(run.Command());
                ExitCode(0, flash);
                var path = Path.Combine(run.WorkDirectory, "nvs.bin");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
                Assert.Equal(new DeviceSettings("MyNet", WifiPassword).BuildNvsImage(0x6000),
                    await File.ReadAllBytesAsync(path));
                Assert.DoesNotContain(WifiPassword, flash.All);
            }),
    ];

    private const string WifiPassword = "correct-horse-22";

    private const string AllAlive = "  alive at the end: 1,000 of 1,000";

    private static async Task<ShellProcess> Exited(ShellProcess shell)
    {
        await shell.WaitForExitAsync(ExampleRun.Timeout);
        return shell;
    }

    private static async Task SendHelloWait3sAsync(ExampleRun run, string reply)
    {
        var (_, port) = await run.StartServeAsync("--echo", "--no-counter");
        var send = await run.RunAsync(run.Command(("port", port)));
        ExitCode(0, send);
        Assert.Equal([reply], send.StdoutLines);
    }

    private static async Task BroadcastToThreeAsync(ExampleRun run, string message)
    {
        var (_, port) = await run.StartServeAsync("--no-counter");
        var clients = new List<TextClient>();
        for (var i = 0; i < 3; i++)
            clients.Add(await run.ConnectAsync(port));
        var broadcast = await run.RunAsync(run.Command(("port", port)));
        ExitCode(0, broadcast);
        Assert.Contains("delivered to 3 clients", broadcast.Stdout);
        foreach (var client in clients)
            await client.WaitForAsync(message);
    }

    private static async Task BenchAsync(ExampleRun run, string serveLine, params string[] expected)
    {
        var serve = await run.StartServeLineAsync(ServeLineCommand(serveLine));
        var bench = await run.RunAsync(run.Command(("port", serve.Port)));
        ExitCode(0, bench);
        foreach (var text in expected)
        {
            Assert.True(bench.Stdout.Contains(text, StringComparison.Ordinal),
                $"'{text}' missing: {bench.All}\n{serve.Shell.All}");
        }
        await serve.StopAsync();
    }

    private static async Task BenchBroadcastJsonAsync(ExampleRun run)
    {
        var serve = await run.StartServeLineAsync(ServeLineCommand(RelayServeLine));
        var bench = await run.RunAsync(run.Command(("port", serve.Port)));
        ExitCode(0, bench);
        var result = JsonDocument.Parse(Assert.Single(bench.StdoutLines)).RootElement;
        Assert.True(result.GetProperty("ok").GetBoolean(), bench.All);
        Assert.Equal(1000, result.GetProperty("connected").GetInt32());
        Assert.Equal(0, result.GetProperty("lost").GetInt64());
        Assert.True(result.GetProperty("received").GetInt64() > 0, bench.All);
        await serve.StopAsync();
    }

    /// <summary>A serve line of the table with its own substitutions made (its port → 0).</summary>
    private static string ServeLineCommand(string text) =>
        Row(text).Substitutions.Aggregate(text, (command, sub) => command.Replace(sub.Find, sub.Replace));

    private static Example CompletionRow(string text, string file, string committed, string shell, string check) =>
        new(text, ExampleFixture.Loopback,
            "an empty HOME (a temporary directory), so ~ is the test's",
            AsWritten,
            $"exit 0; ~/{file} holds the script committed as completions/{committed}, and {shell} {check} accepts it",
            async run =>
            {
                run.Environment["HOME"] = run.Home;
                ExitCode(0, await run.RunAsync(run.Command()));
                var written = Path.Combine(run.Home, file);
                Assert.Equal(await File.ReadAllTextAsync(RepoPaths.Combine("completions", committed)),
                    await File.ReadAllTextAsync(written));
                var syntax = await run.RunAsync($"{shell} {check} '{written}'");
                ExitCode(0, syntax);
            });
}
