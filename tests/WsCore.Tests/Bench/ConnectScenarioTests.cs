using WsCore.Bench;
using WsCore.Tests.Support;

namespace WsCore.Tests.Bench;

/// <summary>The connect scenario run by itself: connect, handshake, close, repeat.</summary>
public sealed class ConnectScenarioTests
{
    [Fact]
    public async Task Run_AnyServer_EveryConnectMeasured_NoneLeftOpen()
    {
        await using var server = TestServer.Start(echo: false);
        var options = new BenchOptions(server.Uri, BenchMode.Connect, 2, 16, TimeSpan.FromMilliseconds(300));

        var result = await new ConnectScenario(TestBenchRun.For(options)).RunAsync()
            .WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(0, result.Errors);
        Assert.True(result.Connects > 0);
        Assert.Equal(result.Connects, result.Latency.Count);
        Assert.Equal((2, 0L), (result.Connected, result.MessagesSent));
    }

    [Fact]
    public async Task Run_NothingListening_EveryAttemptAnError()
    {
        int port;
        await using (var gone = TestServer.Start(echo: false))
            port = gone.Port;
        var options = new BenchOptions(
            new Uri($"ws://127.0.0.1:{port}/"), BenchMode.Connect, 1, 16, TimeSpan.FromMilliseconds(200));

        var result = await new ConnectScenario(TestBenchRun.For(options)).RunAsync()
            .WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(0, result.Connects);
        Assert.True(result.Errors > 0);
        Assert.Equal(0, result.Latency.Count);
    }
}
