using System.Text;
using System.Text.Json;
using Serilog;
using WsCore;
using WsCore.Improv;
using WsCore.Nvs;
using WsCore.Probe;
using WsCore.Targets;
using Wsctl.Cli;
using Wsctl.Probe;

namespace Wsctl.Provision;

/// <summary>What <c>wsctl provision</c> was asked to do, as given: nothing is read or checked yet.</summary>
public sealed record ProvisionSettings
{
    /// <summary>A serial device, socket://HOST:PORT, or auto.</summary>
    public string Port { get; init; } = "auto";
    public int Baud { get; init; } = 115200;
    public string? Ssid { get; init; }
    /// <summary>The password: '-' reads stdin, null takes WSCTL_WIFI_PASS (as flash does).</summary>
    public string? Password { get; init; }
    public bool Scan { get; init; }
    public bool Probe { get; init; }
    /// <summary>How long to wait for each answer; the join included.</summary>
    public TimeSpan Timeout { get; init; } = ProvisionSession.DefaultTimeout;
    public bool Json { get; init; }
}

/// <summary>
/// Runs <c>wsctl provision</c>: Improv Wi-Fi serial to a running device (WsCore.Improv): detect the service, read
/// the device's information, list the networks it sees (--scan), have it join one (--ssid), print its URL and, with
/// --probe, probe that URL.
/// </summary>
public static class ProvisionSession
{
    /// <summary>
    /// The default wait for an answer: the firmware gives up joining after 30 s (improv.h,
    /// IMPROV_DEFAULT_TIMEOUT_MS) and then says "unable to connect", which should arrive before wsctl gives up.
    /// </summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(40);

    /// <summary>
    /// How long a device has to answer the first request: the SDK waits 1 s (initialize); a device that prints its
    /// boot log just then is given more.
    /// </summary>
    public static readonly TimeSpan DetectTimeout = TimeSpan.FromSeconds(5);

    public static async Task<ExitCode> RunAsync(ProvisionSettings settings, ILogger logger, CancellationToken cancel)
    {
        // Checked before the port is opened: a password the device cannot take is refused here, not by the network.
        var password = ReadPassword(settings, cancel);
        if (settings.Ssid is null && !settings.Scan)
            throw WsCoreException.Invalid(InputField.Ssid, "nothing to do: give --ssid (and --pass), or --scan");
        if (settings.Probe && settings.Ssid is null)
            throw WsCoreException.Invalid(InputField.Ssid,
                "--probe probes the URL a provisioning returns: give --ssid");

        var outcome = await Task.Run(() => Provision(settings, password, logger, cancel), cancel);
        ProbeReport? probe = null;
        if (settings.Probe)
        {
            if (outcome.Url is null)
                throw new WsCoreException(FailureKind.Device, "the device joined but gave no URL to probe",
                    "find it with wsctl probe --discover");
            probe = await new DeviceProber(logger).ProbeAsync(WebSocketTarget.Parse(outcome.Url), new ProbeOptions(),
                cancel);
        }
        var exit = probe is null ? ExitCode.Ok : ProbeOutput.ExitCodeOf(probe);
        var stdout = Console.OpenStandardOutput();
        if (settings.Json)
            WriteJson(new JsonLines(stdout), settings, outcome, probe, exit);
        else
            await stdout.WriteAsync(Encoding.UTF8.GetBytes(Text(settings, outcome, probe)), cancel);
        await stdout.FlushAsync(cancel);
        return exit;
    }

    /// <summary>What the device said.</summary>
    private sealed record Outcome(string PortName, ImprovDeviceInfo Info, ImprovState StateBefore, string? UrlBefore,
        IReadOnlyList<ImprovNetwork>? Networks, ImprovState? StateAfter, string? Url);

    private static Outcome Provision(ProvisionSettings settings, string? password, ILogger logger,
        CancellationToken cancel)
    {
        var (transport, _) = SerialPortOption.Open(settings.Port, settings.Baud, logger);
        using (transport)
        {
            var client = new ImprovClient(transport, logger);
            var detect = settings.Timeout < DetectTimeout ? settings.Timeout : DetectTimeout;
            var (state, url) = client.Detect(detect, cancel);
            var info = client.RequestDeviceInformation(settings.Timeout, cancel);
            logger.Debug("Improv on {Port}: {Firmware} {Version} ({Chip}), {State}", transport.Name,
                info.FirmwareName, info.FirmwareVersion, info.Chip, state);
            var networks = settings.Scan ? client.Scan(settings.Timeout, cancel) : null;
            if (settings.Ssid is not { } ssid)
                return new Outcome(transport.Name, info, state, url, networks, null, url);
            var joined = client.Provision(ssid, password ?? "", settings.Timeout, cancel);
            return new Outcome(transport.Name, info, state, url, networks, client.State, joined);
        }
    }

    /// <summary>The password as flash reads it (<see cref="Flash.FlashSession.RequirePassword"/>); null without
    /// --ssid.</summary>
    private static string? ReadPassword(ProvisionSettings settings, CancellationToken cancel)
    {
        if (settings.Ssid is not { } ssid)
        {
            if (settings.Password is not null)
                throw WsCoreException.Invalid(InputField.Ssid, "--pass needs --ssid");
            return null;
        }
        var password = Flash.FlashSession.RequirePassword(settings.Password, cancel);
        // The same rules as the NVS image flash writes, which is where the device stores them.
        new DeviceSettings(ssid, password).Validate();
        return password;
    }

    /// <summary>The JSON name of a state: authorized, provisioning, provisioned.</summary>
    public static string StateName(ImprovState state) => JsonLines.SnakeCase(state.ToString());

    private static string Text(ProvisionSettings settings, Outcome o, ProbeReport? probe)
    {
        var text = new StringBuilder();
        text.Append($"Improv on {o.PortName}: {o.Info.FirmwareName} {o.Info.FirmwareVersion}, chip {o.Info.Chip}, " +
            $"device {o.Info.DeviceName} ({StateName(o.StateBefore)}");
        text.Append(o.UrlBefore is { } before ? $", {before})\n" : ")\n");
        if (o.Networks is { } networks)
        {
            text.Append(networks.Count == 0 ? "No networks in sight\n" : "Networks the device sees:\n");
            foreach (var n in networks)
                text.Append($"  {n.Rssi,4} dBm  {(n.Secured ? "secured" : "open   ")}  {n.Ssid}\n");
        }
        if (settings.Ssid is { } ssid)
            text.Append($"Joined '{ssid}': {o.Url ?? "(the device gave no URL)"}\n");
        if (probe is not null)
            text.Append(ProbeOutput.Text(probe));
        return text.ToString();
    }

    private static void WriteJson(JsonLines json, ProvisionSettings settings, Outcome o, ProbeReport? probe,
        ExitCode exit) =>
        json.WriteResult(exit, probe is null || exit == ExitCode.Ok ? null : ExitCodes.Meaning(exit), null, w =>
        {
            w.WriteString("port", o.PortName);
            w.WriteStartObject("device");
            w.WriteString("firmware", o.Info.FirmwareName);
            w.WriteString("version", o.Info.FirmwareVersion);
            w.WriteString("chip", o.Info.Chip);
            w.WriteString("name", o.Info.DeviceName);
            w.WriteEndObject();
            w.WriteString("state_before", StateName(o.StateBefore));
            if (o.StateAfter is { } after)
                w.WriteString("state", StateName(after));
            if (o.Networks is { } networks)
            {
                w.WriteStartArray("networks");
                foreach (var n in networks)
                {
                    w.WriteStartObject();
                    w.WriteString("ssid", n.Ssid);
                    w.WriteNumber("rssi", n.Rssi);
                    w.WriteBoolean("secured", n.Secured);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            if (settings.Ssid is { } ssid)
                w.WriteString("ssid", ssid);
            if (o.Url is { } url)
                w.WriteString("url", url);
            if (probe is not null)
            {
                w.WriteStartObject("probe");
                w.WriteNumber("exit_code", (int)ProbeOutput.ExitCodeOf(probe));
                ProbeOutput.WriteReportFields(w, probe);
                w.WriteEndObject();
            }
        });
}
