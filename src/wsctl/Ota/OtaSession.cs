using System.Text;
using System.Text.Json;
using Serilog;
using WsCore;
using WsCore.Mdns;
using WsCore.Ota;
using WsCore.Targets;
using Wsctl.Cli;

namespace Wsctl.Ota;

/// <summary>What <c>wsctl ota</c> was asked to do, as given: nothing is read or checked yet.</summary>
public sealed record OtaSettings
{
    /// <summary>The TARGET argument, or null.</summary>
    public string? Target { get; init; }
    /// <summary>More targets (--to).</summary>
    public IReadOnlyList<string> To { get; init; } = [];
    /// <summary>Update every _ws._tcp device found by mDNS (that --match selects).</summary>
    public bool Discover { get; init; }
    /// <summary>With --discover: a glob on the instance name, host name or a TXT key=value.</summary>
    public string? Match { get; init; }
    /// <summary>A build directory or an app .bin.</summary>
    public required string Firmware { get; init; }
    /// <summary>The OTA key file; null only with --dry-run.</summary>
    public string? KeyFile { get; init; }
    public bool DryRun { get; init; }
    public bool Confirm { get; init; } = true;
    public bool Force { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan ConfirmTimeout { get; init; } = TimeSpan.FromSeconds(120);
    public int Canary { get; init; }
    public int Parallel { get; init; } = 4;
    public bool Json { get; init; }
}

/// <summary>
/// Runs <c>wsctl ota</c>: reads and checks the image and the key, lists the devices (the targets named, or those
/// --discover finds), prints the plan (--dry-run) or updates them (canaries first), and prints one result line per
/// device. Exit: 0 when every device ended as asked, 9 when some did not, the first failure's own code when none did.
/// </summary>
public static class OtaSession
{
    /// <summary>The longest browse of --discover (devices answer within about a second, RFC 6762 §6).</summary>
    private static readonly TimeSpan MaxBrowse = TimeSpan.FromSeconds(3);

    public static async Task<ExitCode> RunAsync(OtaSettings settings, Func<WsCoreException, (string, string?)> describe,
        ILogger log, Stream stdout, CancellationToken cancel)
    {
        // 1. Everything checked before any device is touched.
        if (settings.Match is not null && !settings.Discover)
            throw new WsCoreException(FailureKind.InvalidInput, "--match selects among the devices --discover finds: " +
                "give --discover too");
        var named = (settings.Target is null ? settings.To : [settings.Target, .. settings.To])
            .Select(text => (Name: text, Endpoint: OtaClient.EndpointOf(WebSocketTarget.Parse(text)))).ToList();
        if (named.Count == 0 && !settings.Discover)
            throw new WsCoreException(FailureKind.InvalidInput, "no device to update: give TARGET, --to or --discover");
        if (named.Count > 0 && settings.Discover)
            throw new WsCoreException(FailureKind.InvalidInput, "give TARGET (or --to) or --discover, not both");
        var image = OtaImageFile.Load(settings.Firmware);
        byte[]? key = null;
        if (settings.KeyFile is { } keyFile)
        {
            var contents = OtaKeyFile.Load(keyFile);
            if (contents.OthersCanRead)
                log.Warning("{Path} can be read by other users, and whoever holds the key can update the device: " +
                    "chmod 600 {Path}", keyFile, keyFile);
            key = contents.Key;
        }
        else if (!settings.DryRun)
            throw WsCoreException.Invalid(InputField.OtaKey, "the device's key file is needed to update it (the " +
                "file wsctl flash wrote its key from); only a dry run goes without");
        var targets = settings.Discover ? await DiscoverAsync(settings, log, cancel) : named;
        var json = settings.Json ? new JsonLines(stdout) : null;
        var text = new StreamWriter(stdout, new UTF8Encoding(false), leaveOpen: true) { AutoFlush = true };

        if (settings.DryRun)
        {
            WritePlan(settings, image, targets, json, text);
            return ExitCode.Ok;
        }

        // 2. The devices.
        IOtaObserver observer = json is not null ? new JsonOtaRenderer(json)
            : new TextOtaRenderer(text, bar: !Console.IsOutputRedirected && (targets.Count == 1
                || settings.Parallel == 1));
        var options = new OtaOptions
        {
            Key = key!,
            Force = settings.Force,
            Confirm = settings.Confirm,
            Timeout = settings.Timeout,
            ConfirmTimeout = settings.ConfirmTimeout,
            // NAME.local by WsCore's own mDNS querier: works without nss-mdns, and again after the device restarts.
            Resolve = new HostResolver(log).ForClient(settings.Timeout),
            Logger = log,
        };
        var results = await new OtaFleet(options, observer).RunAsync(targets, image, settings.Canary,
            settings.Parallel, cancel);
        return Report(results, image, describe, json, text, log);
    }

    private static async Task<List<(string Name, Uri Endpoint)>> DiscoverAsync(OtaSettings settings, ILogger log,
        CancellationToken cancel)
    {
        var browse = settings.Timeout < MaxBrowse ? settings.Timeout : MaxBrowse;
        var devices = await new DeviceDiscovery(log).DiscoverAsync(browse, null, cancel);
        var selected = devices.Where(d => d.Target is not null && d.Instance.Addresses.Count > 0
                && (settings.Match is null || OtaFleet.Matches(d, settings.Match)))
            .OrderBy(d => d.Instance.HostName ?? d.Instance.InstanceName, StringComparer.OrdinalIgnoreCase)
            .Select(d => (Name: (d.Instance.HostName ?? d.Instance.InstanceName).TrimEnd('.'),
                Endpoint: (d.Target! with { Path = OtaProtocol.Path }).UriFor(d.Instance.Addresses[0])))
            .ToList();
        if (selected.Count > 0)
            return selected;
        var found = string.Join(", ", devices.Select(d => d.Instance.InstanceName));
        throw new WsCoreException(FailureKind.NameNotResolved,
            devices.Count == 0
                ? $"no {DeviceDiscovery.WebSocketServiceType} device answered within {browse.TotalSeconds:0.#} s"
                : $"none of the {devices.Count} {DeviceDiscovery.WebSocketServiceType} device(s) found matches " +
                    $"'{settings.Match}' (found: {found})",
            "is the device on this network (same link: mDNS does not cross routers)?");
    }

    private static void WritePlan(OtaSettings settings, OtaImage image, List<(string Name, Uri Endpoint)> targets,
        JsonLines? json, TextWriter text)
    {
        if (json is not null)
        {
            foreach (var (name, endpoint) in targets)
                json.Write(w =>
                {
                    w.WriteString("type", "plan");
                    w.WriteString("target", name);
                    w.WriteString("url", endpoint.ToString());
                });
            json.WriteResult(ExitCode.Ok, more: w =>
            {
                WriteImage(w, image);
                w.WriteNumber("targets", targets.Count);
                w.WriteNumber("failed", 0);
            });
            return;
        }
        text.WriteLine($"image    {ImageLine(image)}");
        foreach (var (name, endpoint) in targets)
            text.WriteLine($"target   {name} ({endpoint})");
        var order = settings.Canary > 0
            ? $"{Math.Min(settings.Canary, targets.Count)} canary device(s) first, the rest only if they all succeed"
            : "every device";
        text.WriteLine($"plan     {order}, at most {settings.Parallel} at a time; " + (settings.Confirm
            ? $"each confirmed within {Duration.Format(settings.ConfirmTimeout)} of restarting"
            : "left unconfirmed (--no-confirm): each rolls back at its own deadline unless confirmed"));
        text.WriteLine("dry run: no device was contacted");
    }

    private static string ImageLine(OtaImage image) =>
        $"{image.Project} {image.Version} for {image.ChipName}, {image.Data.Length} bytes, sha256 " +
        $"{TextOtaRenderer.Short(Convert.ToHexStringLower(image.Sha256))}…, elf " +
        $"{TextOtaRenderer.Short(image.ElfSha256Hex)}…";

    private static void WriteImage(Utf8JsonWriter w, OtaImage image)
    {
        w.WriteStartObject("image");
        w.WriteString("project", image.Project);
        w.WriteString("version", image.Version);
        w.WriteString("chip", image.ChipName);
        w.WriteNumber("size", image.Data.Length);
        w.WriteString("sha256", Convert.ToHexStringLower(image.Sha256));
        w.WriteString("elf_sha256", image.ElfSha256Hex);
        w.WriteEndObject();
    }

    private static ExitCode Report(IReadOnlyList<OtaTargetResult> results, OtaImage image,
        Func<WsCoreException, (string Message, string? Hint)> describe, JsonLines? json, TextWriter text, ILogger log)
    {
        var width = Math.Min(40, results.Max(r => r.Target.Length));
        foreach (var r in results)
        {
            var exit = ExitOf(r);
            var (error, hint) = r.Error is { } e ? describe(e) : (null, null);
            var version = r.Result?.After.Version;
            var elapsed = Math.Round(r.Elapsed.TotalMilliseconds, 1);
            if (json is not null)
            {
                json.Write(w =>
                {
                    w.WriteString("type", "target");
                    w.WriteString("target", r.Target);
                    w.WriteBoolean("ok", r.Ok);
                    w.WriteNumber("exit_code", (int)exit);
                    w.WriteString("outcome", JsonLines.SnakeCase(r.Outcome.ToString()));
                    if (version is not null)
                        w.WriteString("version", version);
                    if ((r.Error as OtaException)?.Reason is { } reason)
                        w.WriteString("reason", reason);
                    w.WriteNumber("elapsed_ms", elapsed);
                    if (error is not null)
                        w.WriteString("error", error);
                    if (hint is not null)
                        w.WriteString("hint", hint);
                });
                continue;
            }
            var outcome = OutcomeWords(r.Outcome);
            text.WriteLine(r.Ok
                ? $"{r.Target.PadRight(width)}  {outcome,-13} {version}  {r.Elapsed.TotalSeconds,6:0.0} s"
                : $"{r.Target.PadRight(width)}  {outcome,-13} {r.Elapsed.TotalSeconds,6:0.0} s  {error} (exit " +
                    $"{(int)exit})");
        }

        var failures = results.Where(r => !r.Ok).ToList();
        var skipped = results.Count(r => r.Skipped);
        // A fleet stopped by its canary is partial (9) even when no device was updated: the skipped ones were not
        // tried, so the first failure's code would misdescribe them (README, "Exit codes").
        var code = failures.Count == 0 ? ExitCode.Ok
            : failures.Count == results.Count && skipped == 0 ? ExitOf(failures[0])
            : ExitCode.Partial;
        string? message = null;
        string? messageHint = null;
        if (results.Count == 1 && failures.Count == 1)
            (message, messageHint) = describe(failures[0].Error!);
        else if (failures.Count > 0)
            message = $"{failures.Count} of {results.Count} device(s) not updated" +
                (skipped == 0 ? "" : $" ({skipped} not tried: a canary failed)");
        if (message is not null)
            VerbRunner.ReportError(message, messageHint);
        json?.WriteResult(code, message, messageHint, w =>
        {
            WriteImage(w, image);
            w.WriteNumber("targets", results.Count);
            w.WriteNumber("failed", failures.Count);
        });
        if (code == ExitCode.Partial)
            log.Debug("{Failed} of {Total} devices not updated", failures.Count, results.Count);
        return code;
    }

    private static ExitCode ExitOf(OtaTargetResult r) =>
        r.Ok ? ExitCode.Ok : r.Error is { } e && !r.Skipped ? ExitCodes.From(e.Kind) : ExitCode.Failure;

    private static string OutcomeWords(OtaOutcome outcome) => outcome switch
    {
        OtaOutcome.Updated => "updated",
        OtaOutcome.Current => "already runs",
        OtaOutcome.Pending => "pending",
        OtaOutcome.RolledBack => "rolled back",
        OtaOutcome.NotConfirmed => "not confirmed",
        OtaOutcome.Refused => "refused",
        OtaOutcome.AuthenticationFailed => "wrong key",
        OtaOutcome.Skipped => "skipped",
        _ => "failed",
    };
}
