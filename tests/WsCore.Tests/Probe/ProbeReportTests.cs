using WsCore.Mdns;
using WsCore.Probe;
using WsCore.Targets;
using WsCore.WebSockets.Client;

namespace WsCore.Tests.Probe;

public class ProbeReportTests
{
    [Fact]
    public async Task ResolveAsync_AddressLiteral_RecordsSucceededResolveStage()
    {
        var report = new ProbeReport(WebSocketTarget.Parse("10.0.0.9:8080"));

        Assert.True(await report.ResolveAsync(new HostResolver(), TimeSpan.FromSeconds(1)));

        var stage = Assert.Single(report.Stages);
        Assert.Equal(ProbeStage.Resolve, stage.Stage);
        Assert.True(stage.Succeeded);
        Assert.Equal("literal: 10.0.0.9", stage.Detail);
        Assert.Equal(ProbeVerdict.Healthy, report.Verdict);
        Assert.Null(report.Failure);
    }

    [Fact]
    public async Task RunStageAsync_WsCoreException_RecordsFailedStageWithItsKind()
    {
        var report = new ProbeReport(WebSocketTarget.Parse("10.0.0.9"));

        var ok = await report.RunStageAsync(ProbeStage.Connect,
            () => throw new WsCoreException(FailureKind.ConnectionFailed, "refused"));

        Assert.False(ok);
        Assert.Equal(ProbeVerdict.Failed, report.Verdict);
        Assert.Equal(FailureKind.ConnectionFailed, report.Failure);
        Assert.Equal("refused", report.Stages[0].Detail);
    }

    [Fact]
    public void Rtt_Samples_GiveMinAverageMax()
    {
        var report = new ProbeReport(WebSocketTarget.Parse("10.0.0.9"));
        static TimeSpan Ms(int value) => TimeSpan.FromMilliseconds(value);
        report.RoundTrips.AddRange([Ms(2), Ms(4), Ms(9)]);

        Assert.Equal(new RttSummary(Ms(2), Ms(5), Ms(9), 3), report.Rtt);
        Assert.Null(RttSummary.Of([]));
    }
}
