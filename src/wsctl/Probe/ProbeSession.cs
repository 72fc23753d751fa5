using System.Diagnostics;
using System.Text;
using Serilog;
using WsCore;
using WsCore.Mdns;
using WsCore.Probe;
using WsCore.WebSockets.Client;

namespace Wsctl.Probe;

/// <summary>Runs <c>wsctl probe</c>: one target, or every <c>_ws._tcp</c> device found (--discover).</summary>
public static class ProbeSession
{
    /// <summary>
    /// The longest browse of --discover: devices answer a DNS-SD query within about a second (RFC 6762 §6).
    /// </summary>
    public static readonly TimeSpan MaxBrowse = TimeSpan.FromSeconds(3);

    public static async Task<ExitCode> ProbeOneAsync(WebSocketTarget target, ProbeOptions options, bool json,
        ILogger log, Stream stdout, CancellationToken cancel)
    {
        var report = await new DeviceProber(log).ProbeAsync(target, options, cancel);
        var output = json ? ProbeOutput.Json(report) : Encoding.UTF8.GetBytes(ProbeOutput.Text(report));
        await stdout.WriteAsync(output, cancel);
        await stdout.FlushAsync(cancel);
        return ProbeOutput.ExitCodeOf(report);
    }

    /// <summary>
    /// Browses for min(timeout, 3 s), then probes every device found, concurrently. Exit: 0 when all are healthy, 9
    /// (partial) when some are not, the first one's code when none is, and 3 when no device answered.
    /// </summary>
    public static async Task<ExitCode> DiscoverAsync(
        ProbeOptions options, bool json, ILogger log, Stream stdout, CancellationToken cancel)
    {
        var browse = options.Timeout < MaxBrowse ? options.Timeout : MaxBrowse;
        var clock = Stopwatch.StartNew();
        var devices = await new DeviceDiscovery(log).DiscoverAsync(browse, options.Mdns, cancel);
        var browsed = clock.Elapsed;
        var prober = new DeviceProber(log);
        var reports = await Task.WhenAll(devices.Select(d => prober.ProbeAsync(d, options, cancel)));
        var results = devices.Zip(reports).ToList();

        var exit = results.Count == 0 ? ExitCode.NameNotResolved
            : results.All(r => ProbeOutput.ExitCodeOf(r.Second) == ExitCode.Ok) ? ExitCode.Ok
            : results.All(r => ProbeOutput.ExitCodeOf(r.Second) != ExitCode.Ok)
                ? ProbeOutput.ExitCodeOf(results[0].Second)
                : ExitCode.Partial;
        if (json)
        {
            await stdout.WriteAsync(ProbeOutput.Json(results, browsed, exit), cancel);
        }
        else
        {
            var text = new StringBuilder();
            foreach (var (device, report) in results)
                text.Append(ProbeOutput.DeviceLine(device)).Append(ProbeOutput.Text(report, "  "));
            text.Append($"{results.Count} {DeviceDiscovery.WebSocketServiceType} device" +
                $"{(results.Count == 1 ? "" : "s")} found in {browsed.TotalSeconds:0.0} s\n");
            await stdout.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancel);
        }
        await stdout.FlushAsync(cancel);
        if (results.Count == 0)
            Cli.VerbRunner.ReportError(
                $"no {DeviceDiscovery.WebSocketServiceType} device answered within {browse.TotalSeconds:0.#} s",
                "is the device on this network (same link: mDNS does not cross routers)? --interface picks the " +
                    "interface");
        return exit;
    }
}
