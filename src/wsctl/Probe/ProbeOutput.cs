using System.Globalization;
using System.Text;
using System.Text.Json;
using WsCore;
using WsCore.Mdns;
using WsCore.Probe;
using Wsctl.Cli;

namespace Wsctl.Probe;

/// <summary>
/// Renders probe reports: one line per stage and a verdict, or one JSON object (Utf8JsonWriter, AOT-safe).
/// </summary>
public static class ProbeOutput
{
    /// <summary>
    /// The exit code a report stands for: 0 healthy, 5 busy (503), else the first failed stage's kind.
    /// </summary>
    public static ExitCode ExitCodeOf(ProbeReport report) => report.Verdict switch
    {
        ProbeVerdict.Healthy => ExitCode.Ok,
        ProbeVerdict.Busy => ExitCode.HandshakeRejected,
        ProbeVerdict.Interrupted => ExitCode.Interrupted,
        _ => ExitCodes.From(report.Failure ?? FailureKind.Other),
    };

    public static string StageName(ProbeStage stage) => stage switch
    {
        ProbeStage.FirstMessage => "message",
        _ => stage.ToString().ToLowerInvariant(),
    };

    public static string VerdictName(ProbeVerdict verdict) => verdict.ToString().ToLowerInvariant();

    /// <summary>The text form: "STAGE  TIME  DETAIL" per stage, then "verdict: …".</summary>
    public static string Text(ProbeReport report, string indent = "")
    {
        var text = new StringBuilder();
        foreach (var stage in report.Stages)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{indent}{StageName(stage.Stage),-10}{(stage.Succeeded ? "ok    " : "FAILED")} " +
                    $"{stage.Elapsed.TotalMilliseconds,9:0.0} ms  {stage.Detail}\n");
        }
        if (report.Ota is { } ota)
            text.Append(CultureInfo.InvariantCulture,
                $"{indent}{"ota",-10}{(ota.Available ? "yes   " : "no    ")} " +
                    $"{ota.Elapsed.TotalMilliseconds,9:0.0} ms  {OtaDetail(ota)}\n");
        var exit = ExitCodeOf(report);
        text.Append(CultureInfo.InvariantCulture, $"{indent}verdict: {VerdictName(report.Verdict)}");
        text.Append(report.Verdict switch
        {
            ProbeVerdict.Healthy => $" ({report.Target.Uri} in {report.Total.TotalMilliseconds:0} ms)",
            ProbeVerdict.Busy => $" (every client slot is taken: {report.HandshakeResponse?.Status}; exit {(int)exit})",
            ProbeVerdict.Interrupted => $" (stopped after {report.Stages.Count} stage(s); exit {(int)exit})",
            _ => $" ({StageName(report.Stages[^1].Stage)} failed; exit {(int)exit})",
        });
        return text.Append('\n').ToString();
    }

    /// <summary>
    /// The ota line's words: the running app (project, version, ELF SHA-256 prefix, slot, OTA state, how the last
    /// update ended), or why there is no OTA.
    /// </summary>
    public static string OtaDetail(ProbeOtaInfo ota)
    {
        if (ota.Hello is not { } hello)
            return $"no OTA info: {ota.Detail}";
        var last = hello.LastUpdate;
        var update = last.Result switch
        {
            "none" => "",
            "rolled_back" => $"; last update {last.Version} rolled back ({last.Reason})",
            _ => $"; last update {last.Version} {last.Result}",
        };
        var elf = hello.ElfSha256.Length > 8 ? hello.ElfSha256[..8] : hello.ElfSha256;
        return $"app {hello.Project} {hello.Version} (elf {elf}) in {hello.RunningSlot}, {hello.State}{update}";
    }

    /// <summary>One probe as the run's JSON result: stages, timings, RTTs, first message, close, verdict.</summary>
    public static void Json(JsonLines json, ProbeReport report) =>
        json.WriteResult(ExitCodeOf(report), ErrorOf(report), null, w => WriteReportFields(w, report));

    /// <summary><c>probe --discover</c> as the run's JSON result: every device found, each with its probe.</summary>
    public static void Json(JsonLines json,
        IReadOnlyList<(DiscoveredDevice Device, ProbeReport Report)> devices, TimeSpan browsed, ExitCode exit,
        string? error) =>
        json.WriteResult(exit, error, null, w =>
        {
            w.WriteString("service", DeviceDiscovery.WebSocketServiceType);
            w.WriteNumber("browse_ms", Math.Round(browsed.TotalMilliseconds, 1));
            w.WriteNumber("count", devices.Count);
            w.WriteStartArray("devices");
            foreach (var (device, report) in devices)
            {
                var i = device.Instance;
                w.WriteStartObject();
                w.WriteString("name", i.InstanceName);
                w.WriteString("host", i.HostName);
                w.WriteNumber("port", i.Port);
                w.WriteString("interface", i.InterfaceName);
                WriteAddresses(w, "addresses", i.Addresses.Select(a => a.ToString()));
                w.WriteStartObject("txt");
                foreach (var (key, value) in i.Txt)
                    w.WriteString(key, value);
                w.WriteEndObject();
                w.WriteStartObject("probe");
                w.WriteNumber("exit_code", (int)ExitCodeOf(report));
                if (ErrorOf(report) is { } failed)
                    w.WriteString("error", failed);
                WriteReportFields(w, report);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });

    private static string? ErrorOf(ProbeReport report) =>
        report.Stages.FirstOrDefault(s => !s.Succeeded)?.Detail ?? (report.Interrupted ? "interrupted" : null);

    /// <summary>The text form of one discovered device's header line.</summary>
    public static string DeviceLine(DiscoveredDevice device)
    {
        var i = device.Instance;
        var txt = string.Join(" ", i.Txt.Select(kv => $"{kv.Key}={kv.Value}"));
        return $"{i.InstanceName}  {i.HostName ?? "?"}:{i.Port}  [{string.Join(", ", i.Addresses)}]  {txt}".TrimEnd()
            + "\n";
    }

    /// <summary>The fields of one probe (target, stages, verdict...), for a result that nests it.</summary>
    public static void WriteReportFields(Utf8JsonWriter json, ProbeReport report)
    {
        var target = report.Target;
        json.WriteString("target", target.Host);
        json.WriteString("url", target.Uri.ToString());
        json.WriteNumber("port", target.Port);
        json.WriteString("path", target.Path);
        if (report.Resolution is { } resolution)
        {
            json.WriteStartObject("resolve");
            json.WriteString("method", resolution.Method);
            json.WriteString("interface", resolution.InterfaceName);
            json.WriteNumber("queries", resolution.QueriesSent);
            json.WriteEndObject();
            WriteAddresses(json, "addresses", resolution.Addresses.Select(a => a.ToString()));
        }
        if (report.ConnectedEndPoint is { } endPoint)
            json.WriteString("address", endPoint.Address.ToString());
        if (report.FailedAddresses.Count > 0)
            WriteAddresses(json, "failed_addresses", report.FailedAddresses);

        json.WriteStartArray("stages");
        foreach (var stage in report.Stages)
        {
            json.WriteStartObject();
            json.WriteString("stage", StageName(stage.Stage));
            json.WriteBoolean("ok", stage.Succeeded);
            json.WriteNumber("elapsed_ms", Math.Round(stage.Elapsed.TotalMilliseconds, 3));
            json.WriteString("detail", stage.Detail);
            if (stage.Failure is { } kind)
            {
                json.WriteString("failure", JsonLines.SnakeCase(kind.ToString()));
                json.WriteNumber("exit_code", (int)ExitCodes.From(kind));
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();

        if (report.HandshakeResponse is { } response)
        {
            json.WriteStartObject("handshake");
            json.WriteNumber("status", response.StatusCode);
            json.WriteString("status_line", response.StatusLine);
            json.WriteBoolean("accept_key_verified", report.AcceptKeyVerified);
            json.WriteString("subprotocol", report.Subprotocol);
            json.WriteString("compression", report.Compression);
            json.WriteStartObject("headers");
            foreach (var (name, value) in response.Fields)
                json.WriteString(name, value);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        if (report.Rtt is { } rtt)
        {
            json.WriteStartObject("rtt");
            json.WriteNumber("count", rtt.Count);
            json.WriteNumber("min_ms", Math.Round(rtt.Min.TotalMilliseconds, 3));
            json.WriteNumber("avg_ms", Math.Round(rtt.Average.TotalMilliseconds, 3));
            json.WriteNumber("max_ms", Math.Round(rtt.Max.TotalMilliseconds, 3));
            json.WriteStartArray("samples_ms");
            foreach (var sample in report.RoundTrips)
                json.WriteNumberValue(Math.Round(sample.TotalMilliseconds, 3));
            json.WriteEndArray();
            json.WriteEndObject();
        }
        if (report.FirstMessage is { } message)
        {
            json.WriteStartObject("first_message");
            json.WriteString("type", report.FirstMessageBinary ? "binary" : "text");
            json.WriteString("data", message);
            json.WriteNumber("after_open_ms", Math.Round(report.FirstMessageAfterOpen!.Value.TotalMilliseconds, 1));
            json.WriteEndObject();
        }
        if (report.CloseCode is { } code)
        {
            json.WriteNumber("close_code", code);
            json.WriteString("close_reason", report.CloseReason);
        }
        if (report.Ota is { } ota)
        {
            json.WriteStartObject("ota");
            json.WriteBoolean("available", ota.Available);
            json.WriteNumber("elapsed_ms", Math.Round(ota.Elapsed.TotalMilliseconds, 3));
            if (ota.Hello is { } hello)
                Ota.JsonOtaRenderer.WriteHello(json, hello);
            if (ota.Status is { } status)
                json.WriteNumber("status", status);
            if (ota.Detail is { } detail)
                json.WriteString("detail", detail);
            json.WriteEndObject();
        }
        json.WriteNumber("total_ms", Math.Round(report.Total.TotalMilliseconds, 1));
        json.WriteString("verdict", VerdictName(report.Verdict));
    }

    private static void WriteAddresses(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
            json.WriteStringValue(value);
        json.WriteEndArray();
    }
}
