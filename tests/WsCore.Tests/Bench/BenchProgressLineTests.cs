using WsCore.Bench;
using Wsctl.Bench;

namespace WsCore.Tests.Bench;

/// <summary>The terminal progress line of <c>wsctl bench</c>: redrawn in place, wiped before the results.</summary>
public sealed class BenchProgressLineTests
{
    [Fact]
    public void Report_TwiceThenClear_EachDrawStartsWithCarriageReturnAndTheLastIsWiped()
    {
        var terminal = new StringWriter();
        var line = new BenchProgressLine(terminal);

        line.Report(new BenchProgress(BenchMode.Ping, TimeSpan.FromSeconds(1), 12_345, 12_000.4, 212.6));
        line.Report(new BenchProgress(BenchMode.Ping, TimeSpan.FromSeconds(2), 9, 4, null));
        line.Clear();

        var first = "ping 1 s: 12,345 round trips, 12,000/s, p50 213 µs";
        var second = "ping 2 s: 9 round trips, 4/s";
        Assert.Equal(
            "\r" + first + "\r" + second.PadRight(first.Length) + "\r" + new string(' ', second.Length) + "\r",
            terminal.ToString());
        Assert.DoesNotContain('\n', terminal.ToString());
    }

    [Fact]
    public void Clear_NothingDrawn_WritesNothing()
    {
        var terminal = new StringWriter();
        new BenchProgressLine(terminal).Clear();
        Assert.Equal("", terminal.ToString());
    }

    [Theory]
    [InlineData(BenchMode.Echo, "echo 3 s: 10 round trips, 5/s, p50 100 µs")]
    [InlineData(BenchMode.Broadcast, "broadcast 3 s: 10 deliveries, 5/s, p50 100 µs")]
    [InlineData(BenchMode.Connect, "connect 3 s: 10 connects, 5/s, p50 100 µs")]
    [InlineData(BenchMode.Idle, "idle 3 s: 10 connections open")]
    public void Format_EachMode_SaysWhatItCounts(BenchMode mode, string expected)
    {
        Assert.Equal(
            expected,
            BenchProgressLine.Format(new BenchProgress(
                mode, TimeSpan.FromSeconds(3), 10, 5, mode == BenchMode.Idle ? null : 100)));
    }
}
