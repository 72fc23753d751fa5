using WsCore.Bench;

namespace WsCore.Tests.Bench;

/// <summary>A run's latencies kept per server (the target, then each --also) and read back together.</summary>
public sealed class ServerLatenciesTests
{
    [Fact]
    public void Record_ThreeServers_EachKeepsItsOwn_AllAddsThemUp()
    {
        var latencies = new ServerLatencies(3);
        latencies.Record(0, 100);
        latencies.Record(1, 200);
        latencies.Record(1, 210);
        latencies.Record(2, 5_000);

        Assert.Equal(3, latencies.ServerCount);
        Assert.Equal([1L, 2L, 1L], Enumerable.Range(0, 3).Select(s => latencies.Of(s).Count));
        var all = latencies.All();
        Assert.Equal(4, all.Count);
        Assert.Equal(5_000, all.Max);
        Assert.Equal(100, all.ValueAt(0));
    }

    [Fact]
    public void All_OneServer_IsThatServersHistogram()
    {
        var latencies = new ServerLatencies(1);
        latencies.Record(0, 42);

        Assert.Same(latencies.Of(0), latencies.All());
    }

    [Fact]
    public void Constructor_NoServer_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServerLatencies(0));
    }
}
