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
        var exit = ExitCodeOf(report);
        text.Append(CultureInfo.InvariantCulture, $"{indent}verdict: {VerdictName(report.Verdict)}");
        text.Append(report.Verdict switch
        {
            ProbeVerdict.Healthy => $" ({report.Target.Uri} in {report.Total.TotalMilliseconds:0} ms)",
            ProbeVerdict.Busy => $" (every client slot is taken: {report.HandshakeResponse?.Status}; exit {(int)exit})",
            _ => $" ({StageName(report.Stages[^1].Stage)} failed; exit {(int)exit})",
        });
        return text.Append('\n').ToString();
    }

    /// <summary>One JSON object for one probe.</summary>
    public static byte[] Json(ProbeReport report)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonLines.WriterOptions))
            WriteReport(json, report);
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>One JSON object for <c>probe --discover</c>: every device found, each with its probe.</summary>
    public static byte[] Json(
        IReadOnlyList<(DiscoveredDevice Device, ProbeReport Report)> devices, TimeSpan browsed, ExitCode exit)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonLines.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("service", DeviceDiscovery.WebSocketServiceType);
            json.WriteNumber("browseMs", Math.Round(browsed.TotalMilliseconds, 1));
            json.WriteNumber("count", devices.Count);
            json.WriteStartArray("devices");
            foreach (var (device, report) in devices)
            {
                var i = device.Instance;
                json.WriteStartObject();
                json.WriteString("name", i.InstanceName);
                json.WriteString("host", i.HostName);
                json.WriteNumber("port", i.Port);
                json.WriteString("interface", i.InterfaceName);
                WriteAddresses(json, "addresses", i.Addresses.Select(a => a.ToString()));
                json.WriteStartObject("txt");
                foreach (var (key, value) in i.Txt)
                    json.WriteString(key, value);
                json.WriteEndObject();
                json.WritePropertyName("probe");
                WriteReport(json, report);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNumber("exit", (int)exit);
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>The text form of one discovered device's header line.</summary>
    public static string DeviceLine(DiscoveredDevice device)
    {
        var i = device.Instance;
        var txt = string.Join(" ", i.Txt.Select(kv => $"{kv.Key}={kv.Value}"));
        return $"{i.InstanceName}  {i.HostName ?? "?"}:{i.Port}  [{string.Join(", ", i.Addresses)}]  {txt}".TrimEnd()
            + "\n";
    }

    private static void WriteReport(Utf8JsonWriter json, ProbeReport report)
    {
        var target = report.Target;
        json.WriteStartObject();
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
            WriteAddresses(json, "failedAddresses", report.FailedAddresses);

        json.WriteStartArray("stages");
        foreach (var stage in report.Stages)
        {
            json.WriteStartObject();
            json.WriteString("stage", StageName(stage.Stage));
            json.WriteBoolean("ok", stage.Succeeded);
            json.WriteNumber("ms", Math.Round(stage.Elapsed.TotalMilliseconds, 3));
            json.WriteString("detail", stage.Detail);
            if (stage.Failure is { } kind)
            {
                json.WriteString("failure", kind.ToString());
                json.WriteNumber("exit", (int)ExitCodes.From(kind));
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();

        if (report.HandshakeResponse is { } response)
        {
            json.WriteStartObject("handshake");
            json.WriteNumber("status", response.StatusCode);
            json.WriteString("statusLine", response.StatusLine);
            json.WriteBoolean("acceptKeyVerified", report.AcceptKeyVerified);
            json.WriteString("subprotocol", report.Subprotocol);
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
            json.WriteNumber("minMs", Math.Round(rtt.Min.TotalMilliseconds, 3));
            json.WriteNumber("avgMs", Math.Round(rtt.Average.TotalMilliseconds, 3));
            json.WriteNumber("maxMs", Math.Round(rtt.Max.TotalMilliseconds, 3));
            json.WriteStartArray("samplesMs");
            foreach (var sample in report.RoundTrips)
                json.WriteNumberValue(Math.Round(sample.TotalMilliseconds, 3));
            json.WriteEndArray();
            json.WriteEndObject();
        }
        if (report.FirstMessage is { } message)
        {
            json.WriteStartObject("firstMessage");
            json.WriteString("type", report.FirstMessageBinary ? "binary" : "text");
            json.WriteString(report.FirstMessageBinary ? "base64" : "text", message);
            json.WriteNumber("afterOpenMs", Math.Round(report.FirstMessageAfterOpen!.Value.TotalMilliseconds, 1));
            json.WriteEndObject();
        }
        if (report.CloseCode is { } code)
        {
            json.WriteNumber("closeCode", code);
            json.WriteString("closeReason", report.CloseReason);
        }
        json.WriteNumber("totalMs", Math.Round(report.Total.TotalMilliseconds, 1));
        json.WriteString("verdict", VerdictName(report.Verdict));
        json.WriteNumber("exit", (int)ExitCodeOf(report));
        if (report.Stages.FirstOrDefault(s => !s.Succeeded) is { } failed)
            json.WriteString("error", failed.Detail);
        json.WriteEndObject();
    }

    private static void WriteAddresses(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
            json.WriteStringValue(value);
        json.WriteEndArray();
    }
}
