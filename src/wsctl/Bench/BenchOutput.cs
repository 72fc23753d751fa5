using System.Globalization;
using System.Text;
using WsCore.Bench;
using Wsctl.Cli;

namespace Wsctl.Bench;

/// <summary>The results of <c>wsctl bench</c> on stdout: a few aligned lines, or one JSON object (--json).</summary>
public static class BenchOutput
{
    public static string Text(BenchResult r, BenchOptions o)
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        // Idle and connect runs send no messages: no size to speak of.
        var size = o.Mode is BenchMode.Idle or BenchMode.Connect ? "" : $"{o.MessageBytes}-byte messages, ";
        s.Append(c, $"{Name(o.Mode)} {o.Target}: {r.Connected}/{r.Clients} connected, {size}{r.Seconds:0.0} s");
        s.AppendLine(r.Interrupted ? ", interrupted (partial results)" : "");
        if (r.Mode is BenchMode.Ping or BenchMode.Echo or BenchMode.Broadcast)
        {
            var what = r.Mode == BenchMode.Broadcast ? "delivered" : "round trips";
            s.AppendLine(
                c,
                $"  messages: {r.MessagesSent:N0} sent, {r.MessagesReceived:N0} received, {r.MessagesPerSecond:N0}/s " +
                    $"{what}");
            s.AppendLine(c, $"  latency:  {Percentiles(r.Latency)}");
            foreach (var (target, latency) in ServerTargets(o).Zip(r.LatencyByServer))
                s.AppendLine(c, $"    clients of {target}: {Percentiles(latency)}");
            s.AppendLine(c, $"  lost:     {r.Lost:N0}{Samples(r.LossSamples)}");
            s.AppendLine(c, $"  skipped:  {r.Unsolicited:N0} unsolicited (messages the server sent on its own)");
        }
        if (r.Mode == BenchMode.Connect)
        {
            s.AppendLine(c, $"  connects: {r.Connects:N0}, {r.ConnectsPerSecond:N0}/s");
            s.AppendLine(c, $"  connect + handshake: {Percentiles(r.Latency)}");
        }
        if (r.Mode == BenchMode.Idle)
            s.AppendLine(c, $"  alive at the end: {r.AliveAtEnd:N0} of {r.Connected:N0}");
        s.AppendLine(c, $"  errors:   {r.Errors:N0}{Samples(r.ErrorSamples)}");
        var busy = r.GeneratorCpuSeconds / Math.Max(0.001, r.GeneratorWallSeconds);
        s.AppendLine(c, $"  generator: {busy:0.00} of {r.GeneratorCores} core(s) busy ({r.GeneratorCpuShare:P0})" +
            $"{(r.GeneratorSaturated ? ": saturated, so these figures may be its limit, not the server's" : "")}");
        return s.ToString();
    }

    private static string Percentiles(LatencySummary l) => l.Count == 0
        ? "none measured"
        : string.Create(CultureInfo.InvariantCulture,
            $"p50 {l.P50:N0} µs, p90 {l.P90:N0} µs, p99 {l.P99:N0} µs, max {l.Max:N0} µs");

    // The run's servers in the load generator's order: the target, then each --also.
    private static IEnumerable<Uri> ServerTargets(BenchOptions o) => [o.Target, .. o.AlsoTargets];

    private static string Samples(IReadOnlyList<string> samples) => samples.Count > 0
        ? " (" + string.Join("; ", samples) + ")"
        : "";

    public static void Json(BenchResult r, BenchOptions o, JsonLines json, ExitCode exit, string? error,
        string? hint) => json.WriteResult(exit, error, hint, w =>
    {
        w.WriteString("mode", Name(o.Mode));
        w.WriteString("target", o.Target.ToString());
        w.WriteBoolean("interrupted", r.Interrupted);
        w.WriteNumber("clients", r.Clients);
        w.WriteNumber("connected", r.Connected);
        if (o.Mode is not (BenchMode.Idle or BenchMode.Connect))
            w.WriteNumber("size", o.MessageBytes);
        w.WriteNumber("seconds", Math.Round(r.Seconds, 3));
        w.WriteNumber("sent", r.MessagesSent);
        w.WriteNumber("received", r.MessagesReceived);
        w.WriteNumber("lost", r.Lost);
        w.WriteNumber("unsolicited", r.Unsolicited);
        w.WriteNumber("messages_per_second", Math.Round(r.MessagesPerSecond, 1));
        w.WriteStartObject("latency_us");
        WritePercentiles(w, r.Latency);
        w.WriteEndObject();
        if (r.LatencyByServer.Count > 0)
        {
            // Broadcast through several servers: each one's clients, the target's first.
            w.WriteStartArray("latency_us_by_server");
            foreach (var (target, latency) in ServerTargets(o).Zip(r.LatencyByServer))
            {
                w.WriteStartObject();
                w.WriteString("target", target.ToString());
                WritePercentiles(w, latency);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteNumber("connects", r.Connects);
        w.WriteNumber("connects_per_second", Math.Round(r.ConnectsPerSecond, 1));
        w.WriteNumber("alive", r.AliveAtEnd);
        w.WriteNumber("errors", r.Errors);
        w.WriteNumber("generator_cpu_seconds", Math.Round(r.GeneratorCpuSeconds, 3));
        w.WriteNumber("generator_cores", r.GeneratorCores);
        w.WriteNumber("generator_cpu_share", Math.Round(r.GeneratorCpuShare, 3));
        w.WriteBoolean("generator_saturated", r.GeneratorSaturated);
        w.WriteStartArray("error_samples");
        foreach (var e in r.ErrorSamples)
            w.WriteStringValue(e);
        w.WriteEndArray();
        w.WriteStartArray("loss_samples");
        foreach (var reason in r.LossSamples)
            w.WriteStringValue(reason);
        w.WriteEndArray();
    });

    private static void WritePercentiles(System.Text.Json.Utf8JsonWriter w, LatencySummary l)
    {
        w.WriteNumber("p50", Math.Round(l.P50, 1));
        w.WriteNumber("p90", Math.Round(l.P90, 1));
        w.WriteNumber("p99", Math.Round(l.P99, 1));
        w.WriteNumber("max", Math.Round(l.Max, 1));
        w.WriteNumber("count", l.Count);
    }

    public static string Name(BenchMode mode) => mode.ToString().ToLowerInvariant();
}
