using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using WsCore.Tests.Probe;
using WsCore.Tests.Support;
using Wsctl;
using Wsctl.Cli;

namespace WsCore.Tests.Bench;

/// <summary>
/// <c>wsctl bench</c> as a user runs it, against real servers on loopback: <c>wsctl serve</c> (with and without echo,
/// relay and its counter) and the firmware's host build. Each test asserts what bench reports and how it exits,
/// never how fast anything went.
/// </summary>
public sealed partial class BenchVerbTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static string Target(int port) => "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);

    private static async Task<(int Exit, JsonElement Json, string Stderr)> BenchJsonAsync(params string[] args)
    {
        using var process = WsctlProcess.Start(["bench", .. args, "--json"]);
        process.StandardInput.Close();
        var exit = await process.WaitForExitAsync(Timeout);
        var lines = process.StdoutLines;
        Assert.True(
            lines.Count == 1,
            $"bench --json must print one line (one object); stdout:\n{process.Stdout}\nstderr:\n{process.Stderr}");
        return (exit, JsonDocument.Parse(lines[0]).RootElement.Clone(), process.Stderr);
    }

    private static long Number(JsonElement json, string name) => json.GetProperty(name).GetInt64();

    [Fact]
    public async Task Ping_ServeWithoutEcho_Exit0EveryPingAnsweredNoProgressWhenStderrRedirected()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--counter-interval", "200ms", "--no-print");
        using (serve)
        {
            var (exit, json, stderr) = await BenchJsonAsync(Target(port), "--clients", "5", "--duration", "1s");

            Assert.True(exit == 0, stderr + json);
            Assert.Equal("ping", json.GetProperty("mode").GetString());
            Assert.False(json.GetProperty("interrupted").GetBoolean());
            Assert.Equal(5, Number(json, "connected"));
            Assert.True(Number(json, "received") > 0, json.ToString());
            Assert.Equal(Number(json, "sent"), Number(json, "received"));
            Assert.Equal(0, Number(json, "lost"));
            Assert.Equal(0, Number(json, "errors"));
            Assert.Equal(Number(json, "received"), json.GetProperty("latency_us").GetProperty("count").GetInt64());
            Assert.DoesNotContain('\r', stderr);
        }
    }

    [Fact]
    public async Task Ping_FirmwareHostBuildWithItsCounter_ReadmeExampleExit0()
    {
        using var firmware = await FirmwareHost.StartAsync("--counter-interval-ms", "200");
        using var bench = WsctlProcess.Start("bench", Target(firmware.Port), "--clients", "5", "--duration", "1s");
        bench.StandardInput.Close();
        var exit = await bench.WaitForExitAsync(Timeout);

        Assert.True(exit == 0, bench.Stdout + bench.Stderr);
        var lines = bench.StdoutLines;
        Assert.StartsWith($"ping ws://{Target(firmware.Port)}/: 5/5 connected, 32-byte messages, ", lines[0]);
        Assert.DoesNotContain("interrupted", lines[0]);
        Assert.Matches(@"^  messages: ([\d,]+) sent, \1 received, ", lines[1]);
        Assert.Contains("  lost:     0", lines);
        Assert.Contains("  errors:   0", lines);
    }

    [Fact]
    public async Task Echo_ServeEchoWithCounterEvery100ms_Exit0CounterCountedAsUnsolicited()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--echo", "--counter-interval", "100ms", "--no-print");
        using (serve)
        {
            var (exit, json, stderr) = await BenchJsonAsync(
                Target(port), "--mode", "echo", "--clients", "2", "--duration", "1500ms");

            Assert.True(exit == 0, stderr + json);
            Assert.Equal("echo", json.GetProperty("mode").GetString());
            Assert.True(Number(json, "received") > 0, json.ToString());
            Assert.Equal(Number(json, "sent"), Number(json, "received"));
            Assert.True(
                Number(json, "unsolicited") > 0, "the counter's messages must be counted as unsolicited: " + json);
            Assert.Equal(0, Number(json, "lost"));
            Assert.Equal(0, Number(json, "errors"));
        }
    }

    [Fact]
    public async Task Echo_ServerThatDoesNotEcho_Exit2EachClientsMessageLostWithHint()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter", "--no-print");
        using (serve)
        {
            var (exit, json, stderr) = await BenchJsonAsync(
                Target(port), "--mode", "echo", "--clients", "2", "--duration", "200ms");

            Assert.True(exit == 2, stderr + json);
            Assert.Equal(0, Number(json, "received"));
            Assert.Equal(2, Number(json, "sent"));
            Assert.Equal(2, Number(json, "lost"));
            Assert.Contains("no echo within", json.GetProperty("loss_samples")[0].GetString());
            Assert.Contains("wsctl: 2 lost, 0 errors", stderr);
            Assert.Contains("--mode ping", stderr);
        }
    }

    // A server that accepts TCP and never answers the handshake (a wrong port, a hung device): every mode ends,
    // a measuring mode with exit 6 naming the handshake, the connect mode (its loops cut off by the run's end) with 2.
    [Theory]
    [InlineData("echo", 6)]
    [InlineData("idle", 6)]
    [InlineData("connect", 2)]
    public async Task SilentServer_EveryModeEnds_HandshakeNamed(string mode, int expectedExit)
    {
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<System.Net.Sockets.Socket>();
        _ = Task.Run(async () =>
        {
            while (true)
                accepted.Add(await silent.AcceptSocketAsync());
        });
        try
        {
            var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
            var (exit, json, stderr) = await BenchJsonAsync(Target(port), "--mode", mode, "--duration", "1s");

            Assert.True(exit == expectedExit, stderr + json);
            Assert.Contains("handshake", json.GetProperty(exit == 6 ? "error" : "error_samples").ToString());
        }
        finally
        {
            silent.Stop();
            foreach (var socket in accepted.ToArray())
                socket.Dispose();
        }
    }

    [Fact]
    public async Task Broadcast_ServerThatDoesNotRelay_Exit2EveryDeliveryCountedLost()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter", "--no-print");
        using (serve)
        {
            var (exit, json, stderr) = await BenchJsonAsync(
                Target(port), "--mode", "broadcast", "--clients", "3", "--duration", "300ms");

            Assert.True(exit == 2, stderr + json);
            Assert.True(Number(json, "sent") > 0, json.ToString());
            Assert.Equal(0, Number(json, "received"));
            Assert.Equal(Number(json, "sent") * 3, Number(json, "lost"));
            Assert.Contains($"wsctl: {Number(json, "lost")} lost", stderr);
            Assert.Contains("--relay", stderr);
        }
    }

    [Fact]
    public async Task Broadcast_ServeRelay_Exit0NothingLost()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--relay", "--no-counter", "--no-print");
        using (serve)
        {
            using var bench = WsctlProcess.Start(
                "bench", Target(port), "--mode", "broadcast", "--clients", "3", "--duration", "500ms");
            bench.StandardInput.Close();
            var exit = await bench.WaitForExitAsync(Timeout);

            Assert.True(exit == 0, bench.Stdout + bench.Stderr);
            var messages = Regex.Match(bench.Stdout, @"messages: ([\d,]+) sent, ([\d,]+) received");
            Assert.True(messages.Success, bench.Stdout);
            var sent = long.Parse(messages.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
            Assert.Equal(
                sent * 3,
                long.Parse(messages.Groups[2].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture));
            Assert.Contains("  lost:     0", bench.StdoutLines);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Interrupt_SigintWhileMeasuring_Exit130WithPartialResultsMarkedInterrupted(bool json)
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter", "--no-print");
        using (serve)
        {
            using var bench = WsctlProcess.Start(["bench", Target(port), "--clients", "2", "--duration", "5m",
                .. json ? ["--json"] : Array.Empty<string>()]);
            bench.StandardInput.Close();
            await bench.WaitForStderrAsync(RunningLine(), Timeout);

            bench.Signal("INT");
            var exit = await bench.WaitForExitAsync(Timeout);

            Assert.True(exit == (int)ExitCode.Interrupted, bench.Stdout + bench.Stderr);
            Assert.Contains("wsctl: interrupted", bench.Stderr);
            Assert.DoesNotContain("   at ", bench.Stderr);
            if (json)
            {
                var result = JsonDocument.Parse(Assert.Single(bench.StdoutLines)).RootElement;
                Assert.True(result.GetProperty("interrupted").GetBoolean());
                Assert.Equal(2, result.GetProperty("connected").GetInt32());
                Assert.True(result.GetProperty("seconds").GetDouble() < 300, result.ToString());
                Assert.Equal(0, result.GetProperty("errors").GetInt64());
            }
            else
            {
                Assert.EndsWith(", interrupted (partial results)", bench.StdoutLines[0]);
                Assert.Contains("  errors:   0", bench.StdoutLines);
            }
        }
    }

    [TerminalFact]
    public async Task Progress_StderrIsATerminal_LineRedrawnInPlaceThenResults()
    {
        var (serve, port) = await WsctlProcess.StartServeAsync("--no-counter", "--no-print");
        using (serve)
        {
            // script(1) runs bench on a pseudo-terminal: stdout and stderr both reach it, as on a user's screen.
            using var terminal = PseudoTerminal.StartWsctl($"bench {Target(port)} --duration 2500ms");
            var screen = terminal.StandardOutput.ReadToEndAsync();
            using var limit = new CancellationTokenSource(Timeout);
            try
            {
                await terminal.WaitForExitAsync(limit.Token);
            }
            finally
            {
                if (!terminal.HasExited)
                    terminal.Kill(entireProcessTree: true);
            }
            var output = await screen;

            Assert.True(terminal.ExitCode == 0, output);
            Assert.Matches(@"\rping 1 s: [\d,]+ round trips, [\d,]+/s, p50 [\d,]+ µs", output);
            // The line is wiped before the results, which start on a line of their own.
            Assert.Matches(@"\r +\rping ws://", output);
        }
    }

    [Fact]
    public async Task Size_AbovePingLimitWithoutMode_UsageErrorNamingSizeExit1()
    {
        var result = await WsctlProcess.RunAsync(["bench", "127.0.0.1:9", "--size", "200"], timeout: Timeout);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.StartsWith("wsctl: --size: expected at most 125 bytes in ping mode", result.Stderr);
        Assert.Contains("--mode echo", result.Stderr.Split('\n')[0]);
    }

    [Fact]
    public void Parse_EchoWithLargeSize_Accepted()
    {
        Assert.Empty(WsctlCommand.Create().Parse(["bench", "127.0.0.1:9", "--mode", "echo", "--size", "4096"]).Errors);
    }

    [GeneratedRegex(@"ping: 2/2 connected; running for")]
    private static partial Regex RunningLine();
}

/// <summary>A [Fact] that runs only where util-linux <c>script</c>(1) can give a process a pseudo-terminal.</summary>
public sealed class TerminalFactAttribute : FactAttribute
{
    public TerminalFactAttribute()
    {
        if (!File.Exists("/usr/bin/script") || !File.Exists("/dev/ptmx"))
            Skip = "needs script(1) (util-linux) and /dev/ptmx to run wsctl on a pseudo-terminal";
    }
}
