using WsCore.Bench;

namespace WsCore.Tests.Bench;

/// <summary>Each bench mode has its own scenario class.</summary>
public sealed class BenchScenarioTests
{
    [Theory]
    [InlineData(BenchMode.Ping, typeof(PingScenario))]
    [InlineData(BenchMode.Echo, typeof(EchoScenario))]
    [InlineData(BenchMode.Broadcast, typeof(BroadcastScenario))]
    [InlineData(BenchMode.Connect, typeof(ConnectScenario))]
    [InlineData(BenchMode.Idle, typeof(IdleScenario))]
    public void For_EachMode_ItsScenario(BenchMode mode, Type scenario)
    {
        var options = new BenchOptions(new Uri("ws://127.0.0.1:9/"), mode, 1, 16, TimeSpan.FromSeconds(1));

        Assert.IsType(scenario, BenchScenario.For(TestBenchRun.For(options)));
    }
}
