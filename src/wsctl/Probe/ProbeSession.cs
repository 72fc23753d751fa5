using System.Diagnostics;
using System.Text;
using Serilog;
using WsCore;
using WsCore.Mdns;
using WsCore.Probe;
using WsCore.Targets;
using WsCore.WebSockets.Client;
using Wsctl.Cli;

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
        var report = new ProbeReport(target);
        try
        {
            await new DeviceProber(log).ProbeAsync(report, options, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // Ctrl-C: what was found so far is still worth showing.
            report.Interrupted = true;
        }
        if (json)
            ProbeOutput.Json(new Cli.JsonLines(stdout), report);
        else
            stdout.Write(Encoding.UTF8.GetBytes(ProbeOutput.Text(report)));
        stdout.Flush();
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
        var error = results.Count == 0
            ? $"no {DeviceDiscovery.WebSocketServiceType} device answered within {browse.TotalSeconds:0.#} s"
            : null;
        if (json)
        {
            ProbeOutput.Json(new Cli.JsonLines(stdout), results, browsed, exit, error);
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
        if (error is not null)
            Cli.VerbRunner.ReportError(error,
                "is the device on this network (same link: mDNS does not cross routers)? --interface picks the " +
                    "interface");
        return exit;
    }
}
