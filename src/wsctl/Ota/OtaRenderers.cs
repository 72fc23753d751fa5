using System.Diagnostics;
using System.Text.Json;
using WsCore.Ota;
using Wsctl.Cli;

namespace Wsctl.Ota;

/// <summary>
/// Lines for a terminal, a log or a pipe: one when a device says what it runs, when it takes the key, when it
/// restarts, when it comes back; with <paramref name="bar"/>, a progress bar redrawn in place (one device at a time
/// only). Thread-safe: lines of several devices never interleave. Nothing here can carry the key.
/// </summary>
public sealed class TextOtaRenderer(TextWriter output, bool bar) : IOtaObserver
{
    private readonly Lock _lock = new();
    private readonly Stopwatch _clock = new();
    private readonly HashSet<string> _waiting = [];
    private long _lastDrawMs = -1000;
    private bool _barShown;

    public void OnEvent(OtaEvent e)
    {
        lock (_lock)
        {
            if (e.Kind == OtaEventKind.Progress)
            {
                if (bar)
                    Draw(e);
                return;
            }
            if (_barShown)
            {
                output.WriteLine();
                _barShown = false;
            }
            if (Line(e) is { } line)
                output.WriteLine($"{e.Target}: {line}");
            output.Flush();
        }
    }

    private string? Line(OtaEvent e)
    {
        switch (e.Kind)
        {
            case OtaEventKind.Hello when e.Hello is { } hello && !_waiting.Contains(e.Target):
                return $"runs {hello.Project} {hello.Version} (elf {Short(hello.ElfSha256)}, {hello.RunningSlot}, " +
                    $"{hello.State})";
            case OtaEventKind.Hello when e.Hello is { } back:
                return $"back, running {back.Project} {back.Version} ({back.RunningSlot}, {back.State})";
            case OtaEventKind.Authenticated:
                _clock.Restart();
                _lastDrawMs = -1000;
                return $"key accepted; sending {e.Total} bytes";
            case OtaEventKind.Rebooting:
                return $"written and checked; restarting into {e.Detail}";
            case OtaEventKind.Waiting when _waiting.Add(e.Target):
                return "waiting for it to come back";
            case OtaEventKind.Confirmed:
                return e.Detail is null ? $"confirmed {e.Version}" : $"runs {e.Version}, {e.Detail}";
            case OtaEventKind.RolledBack:
                return $"rolled back to {e.Version} ({e.Detail})";
            case OtaEventKind.Error:
                return $"the device refused: {e.Code}{(e.Detail is null ? "" : $" ({e.Detail})")}";
            default:
                return null;
        }
    }

    private void Draw(OtaEvent e)
    {
        var ms = _clock.ElapsedMilliseconds;
        if (e.Done != e.Total && ms - _lastDrawMs < 100)
            return;
        _lastDrawMs = ms;
        const int width = 30;
        var fraction = e.Total == 0 ? 1 : (double)e.Done / e.Total;
        var filled = (int)(fraction * width);
        var rate = ms > 0 ? e.Done * 1000.0 / ms : 0;
        var eta = rate > 0 ? TimeSpan.FromSeconds((e.Total - e.Done) / rate) : TimeSpan.Zero;
        output.Write($"\r{e.Target}: [{new string('#', filled)}{new string('-', width - filled)}] " +
            $"{e.Done,8}/{e.Total} {fraction * 100,5:0.0}% {rate / 1024,7:0.0} KiB/s ETA {eta:mm\\:ss} ");
        output.Flush();
        _barShown = true;
    }

    internal static string Short(string sha256) => sha256.Length > 8 ? sha256[..8] : sha256;
}

/// <summary>
/// One JSON object per event (<see cref="JsonLines"/>): hello, auth, progress (at most one per percent and device),
/// rebooting, confirmed, rolled_back, error; each with its target.
/// </summary>
public sealed class JsonOtaRenderer(JsonLines json) : IOtaObserver
{
    private readonly Dictionary<string, long> _lastPercent = [];

    public void OnEvent(OtaEvent e)
    {
        if (e.Kind == OtaEventKind.Progress)
        {
            var percent = e.Total == 0 ? 100 : e.Done * 100 / e.Total;
            lock (_lastPercent)
            {
                if (_lastPercent.TryGetValue(e.Target, out var last) && last == percent)
                    return;
                _lastPercent[e.Target] = percent;
            }
        }
        if (e.Kind == OtaEventKind.Waiting)
            return;
        json.Write(w =>
        {
            w.WriteString("type", e.Kind switch
            {
                OtaEventKind.Hello => "hello",
                OtaEventKind.Authenticated => "auth",
                OtaEventKind.Progress => "progress",
                OtaEventKind.Rebooting => "rebooting",
                OtaEventKind.Confirmed => "confirmed",
                OtaEventKind.RolledBack => "rolled_back",
                _ => "error",
            });
            w.WriteString("target", e.Target);
            switch (e.Kind)
            {
                case OtaEventKind.Hello:
                    WriteHello(w, e.Hello!);
                    break;
                case OtaEventKind.Authenticated:
                    w.WriteBoolean("ok", true);
                    w.WriteNumber("size", e.Total);
                    break;
                case OtaEventKind.Progress:
                    w.WriteNumber("written", e.Done);
                    w.WriteNumber("total", e.Total);
                    break;
                case OtaEventKind.Rebooting:
                    w.WriteString("slot", e.Detail);
                    break;
                case OtaEventKind.Confirmed:
                    w.WriteString("version", e.Version);
                    w.WriteBoolean("confirmed", e.Detail is null);
                    break;
                case OtaEventKind.RolledBack:
                    w.WriteString("version", e.Version);
                    w.WriteString("reason", e.Detail);
                    break;
                case OtaEventKind.Error:
                    w.WriteString("code", e.Code);
                    if (e.Detail is not null)
                        w.WriteString("message", e.Detail);
                    break;
            }
        });
    }

    /// <summary>A hello's fields (never its nonce), as the ota and probe schemas describe them.</summary>
    public static void WriteHello(Utf8JsonWriter w, OtaHello hello)
    {
        w.WriteString("chip", hello.Chip);
        w.WriteString("project", hello.Project);
        w.WriteString("version", hello.Version);
        w.WriteString("elf_sha256", hello.ElfSha256);
        w.WriteString("running_slot", hello.RunningSlot);
        w.WriteString("state", hello.State);
        w.WriteNumber("slot_size", hello.SlotSize);
        w.WriteStartObject("last_update");
        w.WriteString("result", hello.LastUpdate.Result);
        if (hello.LastUpdate.Version is { } version)
            w.WriteString("version", version);
        if (hello.LastUpdate.Reason is { } reason)
            w.WriteString("reason", reason);
        w.WriteEndObject();
    }
}
