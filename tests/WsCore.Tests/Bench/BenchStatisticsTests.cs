using WsCore.Bench;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;

namespace WsCore.Tests.Bench;

/// <summary>The counters and samples every bench mode shares.</summary>
public sealed class BenchStatisticsTests
{
    [Fact]
    public void Error_ManyDistinctAndRepeated_AllCountedFirstFiveDistinctKept()
    {
        var stats = new BenchStatistics(1);
        foreach (var what in new[] { "a", "b", "a", "c", "d", "e", "f", "b" })
            stats.Error(what);

        Assert.Equal(8, stats.Errors);
        Assert.Equal(["a", "b", "c", "d", "e"], stats.ErrorSamples);
    }

    [Fact]
    public void LoseAndCountLost_BothCounted_OnlyLoseExplains()
    {
        var stats = new BenchStatistics(1);
        stats.Lose("no pong within 5 s");
        stats.Lose("no pong within 5 s");
        stats.CountLost();
        stats.ExplainLoss("10 sent × 2 receivers = 20 deliveries expected, 18 arrived");

        Assert.Equal(3, stats.Lost);
        Assert.Equal(
            ["no pong within 5 s", "10 sent × 2 receivers = 20 deliveries expected, 18 arrived"], stats.LossSamples);
    }

    [Fact]
    public void ConnectFailed_503AndARefusal_BothErrors_OnlyThe503CountsAsFull_TheFirstKept()
    {
        var stats = new BenchStatistics(1);
        var refused = new WsCoreException(FailureKind.ConnectionFailed, "cannot connect to 127.0.0.1:9: refused");
        HttpResponseHead.TryParse("HTTP/1.1 503 Service Unavailable\r\n\r\n"u8, 1024, out var head, out _);
        var full = new WebSocketHandshakeException("503 Service Unavailable: server full", head!);

        stats.ConnectFailed(refused);
        stats.ConnectFailed(full);

        Assert.Same(refused, stats.FirstConnectFailure);
        Assert.Equal((2L, 1L, 2L), (stats.ConnectFailures, stats.RefusedAsFull, stats.Errors));
        Assert.Equal(
            ["connect: cannot connect to 127.0.0.1:9: refused", "connect: 503 Service Unavailable: server full"],
            stats.ErrorSamples);
    }

    [Fact]
    public void Open_OpenedMinusClosed()
    {
        var stats = new BenchStatistics(1);
        stats.CountOpened();
        stats.CountOpened();
        stats.CountOpened();
        stats.CountClosed();

        Assert.Equal(2, stats.Open);
    }

    [Fact]
    public void Counters_FromManyThreadsAtOnce_NoneMissed()
    {
        var stats = new BenchStatistics(2);
        Parallel.For(0, 4, thread =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                stats.CountSent();
                stats.CountReceived();
                stats.CountUnsolicited();
                stats.CountConnects();
                stats.Latencies.Record(thread % 2, 1_000);
            }
        });

        Assert.Equal(
            (40_000L, 40_000L, 40_000L, 40_000L), (stats.Sent, stats.Received, stats.Unsolicited, stats.Connects));
        Assert.Equal(40_000, stats.Latencies.All().Count);
    }

    [Fact]
    public void ErrorSamples_IsACopy_LaterErrorsDoNotChangeIt()
    {
        var stats = new BenchStatistics(1);
        stats.Error("first");
        var samples = stats.ErrorSamples;
        stats.Error("second");

        Assert.Equal(["first"], samples);
    }
}
