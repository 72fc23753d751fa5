using System.CommandLine;
using System.Globalization;
using System.Text;
using WsCore;
using WsCore.Bench;
using WsCore.WebSockets.Client;
using Wsctl.Cli;

namespace Wsctl.Commands;

/// <summary><c>wsctl bench</c>: a WebSocket load generator (echo, broadcast, connect, idle).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("TARGET") { Description = "ws://HOST[:PORT][/PATH] or HOST[:PORT] of an echo or relay server (wsctl serve --echo / --relay, a device)." };
        var mode = new Option<string>("--mode")
        {
            Description = "echo: round trips, every byte checked; broadcast: one sender, every client counts arrivals (needs a relaying server); connect: connects per second; idle: how many connections stay alive.",
            DefaultValueFactory = _ => "echo",
        }.OnlyFrom("echo", "broadcast", "connect", "idle");
        var clients = Options.Integer("--clients", "Connections (connect mode: concurrent connect loops).", 1, 1, 100_000);
        var size = Options.Integer("--size",
            "Message payload size in bytes (at least 16: a sequence number and a timestamp travel in each message).", 32, 16, 16 * 1024 * 1024, "BYTES");
        var duration = Options.Duration("--duration", "How long to measure.", TimeSpan.FromSeconds(10), minimum: TimeSpan.FromMilliseconds(100));
        var rate = Options.OptionalPositiveNumber("--rate", "Messages per second in all (default: as fast as the server answers).", 10_000_000, "R");
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object." };

        var command = new Command("bench", HelpText.Describe(
            "Measure a WebSocket server: messages per second, latency percentiles (p50/p90/p99/max), connects per second, " +
            "errors; for idle, how many connections stayed alive. Answers the question \"how many clients does my board take, " +
            "at what latency?\". Exits 2 when any message was lost or corrupted or any connection failed.",
            [
                "wsctl bench esp32ws.local --clients 5 --duration 30s",
                "wsctl bench ws://127.0.0.1:8080/ --mode broadcast --clients 1000 --json",
                "wsctl bench 127.0.0.1:8080 --mode idle --clients 10000 --duration 20s",
            ],
            ExitCode.Ok, ExitCode.Usage, ExitCode.Failure, ExitCode.NameNotResolved, ExitCode.ConnectFailed, ExitCode.Interrupted))
        {
            target, mode, clients, size, duration, rate, json,
        };
        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, async (log, token) =>
        {
            var benchMode = parse.GetValue(mode) switch
            {
                "broadcast" => BenchMode.Broadcast,
                "connect" => BenchMode.Connect,
                "idle" => BenchMode.Idle,
                _ => BenchMode.Echo,
            };
            var options = new BenchOptions(WebSocketTarget.Parse(parse.GetValue(target)!), benchMode, parse.GetValue(clients),
                parse.GetValue(size), parse.GetValue(duration), parse.GetValue(rate));
            var result = await LoadGenerator.RunAsync(options, log, token);
            var stdout = Console.OpenStandardOutput();
            if (parse.GetValue(json))
                WriteJson(result, options, stdout);
            else
                stdout.Write(Encoding.UTF8.GetBytes(Describe(result, options)));
            if (result.Connected == 0)
                throw new WsCoreException(FailureKind.ConnectionFailed,
                    "no connection could be made" + (result.ErrorSamples.Count > 0 ? ": " + result.ErrorSamples[0] : ""));
            return result.Errors == 0 ? ExitCode.Ok : ExitCode.Failure;
        }));
        return command;
    }

    private static string Describe(BenchResult r, BenchOptions o)
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.AppendLine(c, $"{o.Mode.ToString().ToLowerInvariant()} {o.Target}: {r.Connected}/{r.Clients} connected, {o.MessageBytes}-byte messages, {r.Seconds:0.0} s");
        if (r.Mode is BenchMode.Echo or BenchMode.Broadcast)
        {
            s.AppendLine(c, $"  messages: {r.MessagesSent:N0} sent, {r.MessagesReceived:N0} received, {r.MessagesPerSecond:N0}/s {(r.Mode == BenchMode.Broadcast ? "delivered" : "round trips")}");
            s.AppendLine(c, $"  latency:  p50 {r.Latency.P50:N0} µs, p90 {r.Latency.P90:N0} µs, p99 {r.Latency.P99:N0} µs, max {r.Latency.Max:N0} µs");
        }
        if (r.Mode == BenchMode.Connect)
        {
            s.AppendLine(c, $"  connects: {r.Connects:N0}, {r.ConnectsPerSecond:N0}/s");
            s.AppendLine(c, $"  connect + handshake: p50 {r.Latency.P50:N0} µs, p99 {r.Latency.P99:N0} µs, max {r.Latency.Max:N0} µs");
        }
        if (r.Mode == BenchMode.Idle)
            s.AppendLine(c, $"  alive at the end: {r.AliveAtEnd:N0} of {r.Connected:N0}");
        s.AppendLine(c, $"  errors:   {r.Errors:N0}{(r.ErrorSamples.Count > 0 ? " (" + string.Join("; ", r.ErrorSamples) + ")" : "")}");
        return s.ToString();
    }

    private static void WriteJson(BenchResult r, BenchOptions o, Stream stdout) => new JsonLines(stdout).Write(w =>
    {
        w.WriteString("mode", o.Mode.ToString().ToLowerInvariant());
        w.WriteString("target", o.Target.ToString());
        w.WriteNumber("clients", r.Clients);
        w.WriteNumber("connected", r.Connected);
        w.WriteNumber("size", o.MessageBytes);
        w.WriteNumber("seconds", Math.Round(r.Seconds, 3));
        w.WriteNumber("sent", r.MessagesSent);
        w.WriteNumber("received", r.MessagesReceived);
        w.WriteNumber("messages_per_second", Math.Round(r.MessagesPerSecond, 1));
        w.WriteStartObject("latency_us");
        w.WriteNumber("p50", Math.Round(r.Latency.P50, 1));
        w.WriteNumber("p90", Math.Round(r.Latency.P90, 1));
        w.WriteNumber("p99", Math.Round(r.Latency.P99, 1));
        w.WriteNumber("max", Math.Round(r.Latency.Max, 1));
        w.WriteNumber("count", r.Latency.Count);
        w.WriteEndObject();
        w.WriteNumber("connects", r.Connects);
        w.WriteNumber("connects_per_second", Math.Round(r.ConnectsPerSecond, 1));
        w.WriteNumber("alive", r.AliveAtEnd);
        w.WriteNumber("errors", r.Errors);
        w.WriteStartArray("error_samples");
        foreach (var e in r.ErrorSamples)
            w.WriteStringValue(e);
        w.WriteEndArray();
    });
}
