using System.CommandLine;
using System.Globalization;
using WsCore.Bench;
using WsCore.Mdns;
using WsCore.Targets;
using WsCore.WebSockets.Client;
using Wsctl.Bench;
using Wsctl.Cli;

namespace Wsctl.Commands;

/// <summary><c>wsctl bench</c>: a WebSocket load generator (ping, echo, broadcast, connect, idle).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var target = SharedOptions.Target("Any WebSocket server (a device, wsctl serve); echo mode needs one that " +
            "echoes (serve --echo), broadcast one that relays (serve --relay).", tls: false);
        var mode = new Option<string>("--mode")
        {
            Description = "ping: ping/pong round trips, which every WebSocket server answers (RFC 6455 §5.5.2); " +
                "echo: round trips through an echoing server, every byte checked, other messages skipped; broadcast: " +
                "one sender, every client counts arrivals (needs a relaying server), losses counted; connect: " +
                "connects per second; idle: how many connections stay alive.",
            DefaultValueFactory = _ => "ping",
        }.OnlyFrom("ping", "echo", "broadcast", "connect", "idle");
        var clients = Options.Integer(
            "--clients", "Connections (connect mode: concurrent connect loops).", 1, 1, 100_000);
        var size = Options.Integer("--size",
            $"Message payload size in bytes: at least {LoadGenerator.MinMessageBytes} (a sequence number and a " +
            $"timestamp travel in each message), at most {LoadGenerator.MaxPingBytes} in ping mode (a ping's limit).",
            32, LoadGenerator.MinMessageBytes, 16 * 1024 * 1024, "BYTES");
        var duration = Options.Duration(
            "--duration", "How long to measure.", TimeSpan.FromSeconds(10), minimum: TimeSpan.FromMilliseconds(100));
        var rate = Options.OptionalPositiveNumber(
            "--rate", "Messages per second in all (default: as fast as the server answers).", 10_000_000, "R");
        var json = SharedOptions.Json("the result, as one object");
        var compress = new Option<bool>("--compress")
        {
            Description = "Offer permessage-deflate (RFC 7692) on every connection, as browsers do; the result " +
                "says what the server agreed and counts the bytes on the wire either way.",
        };
        var payload = new Option<string>("--payload")
        {
            Description = "echo: binary (a pattern, the default) or json (text like the firmware's counter, at " +
                "least 128 bytes: the traffic compression is for).",
            DefaultValueFactory = _ => "binary",
        }.OnlyFrom("binary", "json");
        var also = new Option<string[]>("--also")
        {
            Description = "Another server to spread the connections over, in turns with TARGET (repeatable): " +
                "e.g. the other instances of a serve --cluster, so that broadcast mode measures the cluster.",
            HelpName = "TARGET",
        };

        var command = new Command("bench", HelpText.Describe(
            "Measure a WebSocket server: messages per second, latency percentiles (p50/p90/p99/max), connects per " +
            "second, losses and errors; for idle, how many connections stayed alive. Answers the question \"how many " +
            "clients does my board take, at what latency?\". The default mode, ping, needs nothing from the server " +
            "but RFC 6455, so it measures the firmware as it is. Messages the server sends on its own (the " +
            "firmware's counter) are skipped and counted as unsolicited. On a terminal a progress line on stderr is " +
            "redrawn every second. Ctrl-C stops early, prints what was measured (marked interrupted) and exits 130. " +
            "Exits 2 when any message was lost or corrupted or any connection failed.",
            [
                "wsctl bench esp32ws.local --clients 5 --duration 30s           # ping: any server as it is",
                "wsctl serve --port 8081 --echo --no-counter --no-print &       # a server that echoes, for:",
                "wsctl bench 127.0.0.1:8081 --mode echo --size 1024",
                "wsctl serve --port 8082 --relay --max-clients 1000 --no-counter --no-print &   # relays, for:",
                "wsctl bench ws://127.0.0.1:8082/ --mode broadcast --clients 1000 --json",
                "wsctl serve --port 8083 --max-clients 1000 --no-counter --no-print &   # takes 1,000, for:",
                "wsctl bench 127.0.0.1:8083 --mode idle --clients 1000 --duration 20s",
            ],
            ExitCode.Ok, ExitCode.Usage, ExitCode.Failure, ExitCode.NameNotResolved, ExitCode.ConnectFailed,
            ExitCode.HandshakeRejected, ExitCode.Timeout, ExitCode.Tls, ExitCode.Interrupted))
        {
            target, mode, clients, size, duration, rate, json, also, compress, payload,
        };
        command.Validators.Add(r =>
        {
            // Read from what was typed: GetValue throws for an option whose own text did not parse (that error is
            // reported already), and an option left out has no value yet here (no --mode is ping, the default).
            var modeText = r.GetResult(mode)?.Tokens.LastOrDefault()?.Value ?? "ping";
            var sizeText = r.GetResult(size)?.Tokens.LastOrDefault()?.Value;
            if (modeText == "ping"
                && int.TryParse(sizeText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var bytes)
                && bytes > LoadGenerator.MaxPingBytes)
                r.AddError($"--size: expected at most {LoadGenerator.MaxPingBytes} bytes in ping mode (a ping " +
                    $"carries no more, RFC 6455 §5.5), got {bytes}; --mode echo sends larger messages");
        });
        // Ctrl-C: the partial results are printed before the exit with 130 (VerbRunner's interrupt).
        command.SetAction((parse, cancel) =>
            VerbRunner.RunAsync(parse, cancel, (log, token) =>
            {
                var benchMode = parse.GetValue(mode) switch
                {
                    "echo" => BenchMode.Echo,
                    "broadcast" => BenchMode.Broadcast,
                    "connect" => BenchMode.Connect,
                    "idle" => BenchMode.Idle,
                    _ => BenchMode.Ping,
                };
                var uri = WebSocketTarget.Parse(parse.GetValue(target)!).Uri;
                var options = new BenchOptions(uri, benchMode, parse.GetValue(clients),
                    parse.GetValue(size), parse.GetValue(duration), parse.GetValue(rate))
                {
                    AlsoTargets = [.. (parse.GetValue(also) ?? []).Select(t => WebSocketTarget.Parse(t).Uri)],
                    // NAME.local by wsctl's own mDNS, other names by the system resolver, as send and probe do.
                    Resolve = new HostResolver(log).ForClient(BenchOptions.DefaultResolveTimeout),
                    Compression = parse.GetValue(compress),
                    JsonPayload = parse.GetValue(payload) == "json",
                };
                // The progress line is for a person at a terminal; -q asks for a quiet stderr.
                var showProgress = !Console.IsErrorRedirected && !parse.GetValue(GlobalOptions.Quiet);
                return BenchSession.RunAsync(
                    options, parse.GetValue(json), showProgress, log, Console.OpenStandardOutput(), token);
            }));
        return command;
    }
}
