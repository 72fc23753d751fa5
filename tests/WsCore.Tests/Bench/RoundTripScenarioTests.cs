using WsCore.Bench;
using WsCore.Tests.Support;
using WsCore.WebSockets.Protocol;

namespace WsCore.Tests.Bench;

/// <summary>Ping and echo scenarios run by themselves against an in-process server.</summary>
public sealed class RoundTripScenarioTests
{
    [Fact]
    public async Task Ping_AnyServer_EveryPingAnsweredAndMeasured()
    {
        await using var server = TestServer.Start(echo: false);
        var options = new BenchOptions(server.Uri, BenchMode.Ping, 2, 64, TimeSpan.FromMilliseconds(300));

        var result = await new PingScenario(TestBenchRun.For(options)).RunAsync().WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal((2, 2, 0L, 0L), (result.Connected, result.AliveAtEnd, result.Errors, result.Lost));
        Assert.True(result.MessagesReceived > 0);
        Assert.Equal(result.MessagesSent, result.MessagesReceived);
        Assert.Equal(result.MessagesReceived, result.Latency.Count);
        Assert.True(result.Latency.P50 > 0 && result.Latency.P50 <= result.Latency.P99);
        Assert.True(result.Latency.P99 <= result.Latency.Max);
    }

    [Fact]
    public async Task Echo_EchoingServer_EveryMessageBackAndMeasured()
    {
        await using var server = TestServer.Start(echo: true);
        var options = new BenchOptions(server.Uri, BenchMode.Echo, 2, 1_024, TimeSpan.FromMilliseconds(300));

        var result = await new EchoScenario(TestBenchRun.For(options)).RunAsync().WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal((0L, 0L), (result.Errors, result.Lost));
        Assert.True(result.MessagesReceived > 0);
        Assert.Equal(result.MessagesSent, result.MessagesReceived);
        Assert.Equal(result.MessagesReceived, result.Latency.Count);
        Assert.Contains(server.Messages, m => m.Type == MessageType.Binary && m.Payload.Length == 1_024);
    }

    [Fact]
    public async Task Echo_ServerClosesTheConnectionInsteadOfEchoing_MessageLostAndAnError()
    {
        await using var server = TestServer.Start(echo: false, o => o.MessageHandler = (s, id, _, _) =>
            s.CloseClient(id));
        var options = new BenchOptions(server.Uri, BenchMode.Echo, 1, 32, TimeSpan.FromSeconds(30));

        var result = await new EchoScenario(TestBenchRun.For(options)).RunAsync().WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal((1L, 1L, 1L, 0), (result.MessagesSent, result.Lost, result.Errors, result.AliveAtEnd));
        Assert.Equal(["the server closed the connection before the echo"], result.ErrorSamples);
    }
}
