using System.Diagnostics;
using System.Text.Json;
using WsCore;
using WsCore.Esp;
using WsCore.Flashing;
using Wsctl.Cli;

namespace Wsctl.Flash;

/// <summary>How a run that talks to the ROM loader shows its progress.</summary>
public static class FlashProgress
{
    /// <summary>
    /// JSON lines on stdout with --json; else on <paramref name="progressOnStderr"/>'s stream (stderr where stdout
    /// is kept for a result), bars on a terminal and plain lines when it is redirected.
    /// </summary>
    public static IFlashObserver ForConsole(bool json, bool progressOnStderr)
    {
        if (json)
            return new JsonFlashRenderer(Console.OpenStandardOutput());
        var (writer, redirected) = progressOnStderr
            ? (Console.Error, Console.IsErrorRedirected)
            : (Console.Out, Console.IsOutputRedirected);
        return redirected ? new PlainFlashRenderer(writer) : new TerminalFlashRenderer(writer);
    }
}

/// <summary>
/// A bar per region on a terminal (bytes, percent, rate, ETA), redrawn in place with \r. Writes region names and
/// sizes only: nothing here can carry the password.
/// </summary>
public sealed class TerminalFlashRenderer(TextWriter output) : IFlashObserver
{
    private readonly Stopwatch _clock = new();
    private long _lastDrawMs = -1000;

    public void OnEvent(in FlashEvent e)
    {
        switch (e.Kind)
        {
            case FlashEventKind.RegionStarted or FlashEventKind.ReadStarted:
                _clock.Restart();
                _lastDrawMs = -1000;
                Draw(e, force: true);
                break;
            case FlashEventKind.RegionProgress:
                Draw(e, force: e.Done == e.Total);
                break;
            case FlashEventKind.RegionVerified when _clock.IsRunning:
                output.WriteLine();
                output.WriteLine($"  verified {e.Region!.Name} (md5 {e.Message})");
                _clock.Reset();
                break;
            case FlashEventKind.RegionRead:
                output.WriteLine();
                output.WriteLine($"  read {e.Region!.Name} (md5 {e.Message})");
                _clock.Reset();
                break;
            default:
                PlainFlashRenderer.WriteLine(output, e);
                break;
        }
        output.Flush();
    }

    private void Draw(in FlashEvent e, bool force)
    {
        var ms = _clock.ElapsedMilliseconds;
        if (!force && ms - _lastDrawMs < 100)
            return;
        _lastDrawMs = ms;
        const int width = 30;
        var fraction = e.Total == 0 ? 1 : (double)e.Done / e.Total;
        var filled = (int)(fraction * width);
        var rate = ms > 0 ? e.Done * 1000.0 / ms : 0;
        var eta = rate > 0 ? TimeSpan.FromSeconds((e.Total - e.Done) / rate) : TimeSpan.Zero;
        output.Write($"\r{e.Region!.Name,-22} 0x{e.Region.Offset:X6} " +
            $"[{new string('#', filled)}{new string('-', width - filled)}] {e.Done,8}/{e.Total} " +
            $"{fraction * 100,5:0.0}% {rate / 1024,7:0.0} KiB/s ETA {eta:mm\\:ss} ");
    }
}

/// <summary>Plain lines for logs and pipes: one line when a region starts and one when it ends.</summary>
public sealed class PlainFlashRenderer(TextWriter output) : IFlashObserver
{
    public void OnEvent(in FlashEvent e)
    {
        if (e.Kind == FlashEventKind.RegionProgress)
            return;
        WriteLine(output, e);
        output.Flush();
    }

    internal static void WriteLine(TextWriter output, in FlashEvent e)
    {
        switch (e.Kind)
        {
            case FlashEventKind.Connecting:
                output.WriteLine($"Connecting to {e.Message}...");
                break;
            case FlashEventKind.Connected:
                output.WriteLine($"Connected: {e.Message}");
                break;
            case FlashEventKind.RegionStarted:
                output.WriteLine($"Writing {e.Region!.Name} at 0x{e.Region.Offset:X} ({e.Total} bytes, {e.Message})");
                break;
            case FlashEventKind.RegionSkipped:
                output.WriteLine($"Skipping {e.Region!.Name} at 0x{e.Region.Offset:X}: already in flash (md5 " +
                    $"{e.Message})");
                break;
            case FlashEventKind.RegionVerified:
                output.WriteLine($"Verified {e.Region!.Name} at 0x{e.Region.Offset:X} (md5 {e.Message})");
                break;
            case FlashEventKind.Retrying:
                output.WriteLine($"Retrying {e.Region!.Name} at 0x{e.Region.Offset:X}: {e.Message}");
                break;
            case FlashEventKind.ReadStarted:
                output.WriteLine($"Reading {e.Region!.Name} at 0x{e.Region.Offset:X} ({e.Total} bytes)");
                break;
            case FlashEventKind.RegionRead:
                output.WriteLine($"Read {e.Region!.Name} at 0x{e.Region.Offset:X} ({e.Total} bytes, md5 " +
                    $"{e.Message}, as the chip's own)");
                break;
            case FlashEventKind.EraseStarted:
                output.WriteLine($"Erasing {e.Region!.Name} at 0x{e.Region.Offset:X} ({e.Total} bytes)");
                break;
            case FlashEventKind.RegionErased:
                output.WriteLine($"Erased {e.Region!.Name} at 0x{e.Region.Offset:X}: reads back as 0xFF");
                break;
            case FlashEventKind.RegionDiffers:
                output.WriteLine($"Differs {e.Region!.Name} at 0x{e.Region.Offset:X} (md5 {e.Message} on the chip)");
                break;
            case FlashEventKind.Resetting:
                output.WriteLine("Resetting the board (hard reset)");
                break;
            case FlashEventKind.Done:
                output.WriteLine("Done");
                break;
        }
    }
}

/// <summary>One JSON object per line for wrappers (<see cref="JsonLines"/>: no reflection, NativeAOT-safe).</summary>
public sealed class JsonFlashRenderer(Stream output) : IFlashObserver
{
    private readonly JsonLines _json = new(output);
    private long _lastPercent = -1;

    public void OnEvent(in FlashEvent e)
    {
        if (e.Kind == FlashEventKind.RegionProgress)
        {
            // At most one progress event per percent: wrappers want progress, not 1000 lines.
            var percent = e.Total == 0 ? 100 : e.Done * 100 / e.Total;
            if (percent == _lastPercent)
                return;
            _lastPercent = percent;
        }
        else
            _lastPercent = -1;
        var ev = e;
        _json.Write(w =>
        {
            w.WriteString("type", Name(ev.Kind));
            if (ev.Region is { } region)
            {
                w.WriteString("region", region.Name);
                w.WriteNumber("offset", region.Offset);
                w.WriteNumber("done", ev.Done);
                w.WriteNumber("total", ev.Total);
            }
            if (ev.Message is not null)
                w.WriteString(
                    ev.Kind is FlashEventKind.RegionVerified or FlashEventKind.RegionSkipped
                        or FlashEventKind.RegionRead or FlashEventKind.RegionDiffers ? "md5" : "detail",
                    ev.Message);
        });
    }

    private static string Name(FlashEventKind kind) => kind switch
    {
        FlashEventKind.Connecting => "connecting",
        FlashEventKind.Connected => "connected",
        FlashEventKind.RegionStarted => "region_start",
        FlashEventKind.RegionProgress => "progress",
        FlashEventKind.RegionSkipped => "region_skipped",
        FlashEventKind.RegionVerified => "region_verified",
        FlashEventKind.Retrying => "retry",
        FlashEventKind.ReadStarted => "read_start",
        FlashEventKind.RegionRead => "region_read",
        FlashEventKind.EraseStarted => "erase_start",
        FlashEventKind.RegionErased => "region_erased",
        FlashEventKind.RegionDiffers => "region_differs",
        FlashEventKind.Resetting => "reset",
        _ => "done",
    };
}

/// <summary>
/// The plan of an offline run (--dry-run, --nvs-out, --output): each region's offset, size and MD5 (the NVS one's
/// shown as secret), then which files were written.
/// </summary>
public static class FlashPlanRenderer
{
    public static void WriteText(FlashPlan plan, WrittenFiles written, TextWriter text)
    {
        text.WriteLine($"{"region",-24} {"offset",-10} {"size",10}  md5");
        foreach (var region in plan.Regions)
        {
            var md5 = region.ShownMd5(FlashPlan.Md5Of(region));
            text.WriteLine($"{region.Name,-24} 0x{region.Offset:X8} {region.Data.Length,10}  {md5}");
        }
        if (written.NvsOut is not null)
            text.WriteLine($"Wrote the NVS image to {written.NvsOut}");
        if (written.Output is not null)
            text.WriteLine($"Wrote the merged image to {written.Output}");
        if (written.WebInstall is not null)
            text.WriteLine($"Wrote the ESP Web Tools install to {written.WebInstall} (serve it over https or from " +
                $"localhost; open {Path.Combine(written.WebInstall, WebInstall.PageFile)})");
    }

    /// <summary>A "plan" object per region, then the result naming the files written.</summary>
    public static void WriteJson(FlashPlan plan, WrittenFiles written, Stream stdout)
    {
        var json = new JsonLines(stdout);
        foreach (var region in plan.Regions)
            json.Write(w =>
            {
                w.WriteString("type", "plan");
                w.WriteString("region", region.Name);
                w.WriteNumber("offset", region.Offset);
                w.WriteNumber("size", region.Data.Length);
                w.WriteString("md5", region.ShownMd5(FlashPlan.Md5Of(region)));
            });
        json.WriteResult(ExitCode.Ok, more: w =>
        {
            if (written.NvsOut is not null)
                w.WriteString("nvs_out", written.NvsOut);
            if (written.Output is not null)
                w.WriteString("output", written.Output);
            if (written.WebInstall is not null)
                w.WriteString("web_install", written.WebInstall);
        });
    }
}
