using System.Globalization;
using WsCore.Bench;

namespace Wsctl.Bench;

/// <summary>
/// One line on a terminal's stderr, redrawn in place with \r as the load generator reports (about once a second):
/// elapsed time, count so far, rate, median latency so far. Only for a terminal: a log or a pipe would collect a
/// line per second of noise, so the verb makes one only when stderr is not redirected.
/// </summary>
public sealed class BenchProgressLine(TextWriter output) : IProgress<BenchProgress>
{
    private readonly Lock _lock = new();
    private int _drawnLength;

    public void Report(BenchProgress value)
    {
        var text = Format(value);
        lock (_lock)
        {
            // Spaces over whatever the longer previous line left behind.
            output.Write("\r" + text.PadRight(_drawnLength));
            output.Flush();
            _drawnLength = text.Length;
        }
    }

    /// <summary>Wipes the line, so the results and any message after it start on a clean line.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            if (_drawnLength == 0)
                return;
            output.Write("\r" + new string(' ', _drawnLength) + "\r");
            output.Flush();
            _drawnLength = 0;
        }
    }

    /// <summary>
    /// "ping 12 s: 48,210 round trips, 4,020/s, p50 212 µs" (idle: "idle 12 s: 9,870 connections open").
    /// </summary>
    public static string Format(BenchProgress p)
    {
        var c = CultureInfo.InvariantCulture;
        var head = string.Create(c, $"{p.Mode.ToString().ToLowerInvariant()} {p.Elapsed.TotalSeconds:0} s: ");
        if (p.Mode == BenchMode.Idle)
            return head + string.Create(c, $"{p.Count:N0} connections open");
        var noun = p.Mode switch
        {
            BenchMode.Broadcast => "deliveries",
            BenchMode.Connect => "connects",
            _ => "round trips",
        };
        var median = p.P50Microseconds is { } us ? string.Create(c, $", p50 {us:N0} µs") : "";
        return head + string.Create(c, $"{p.Count:N0} {noun}, {p.PerSecond:N0}/s{median}");
    }
}
