using System.Net;
using WsCore.Mdns;

namespace WsCore.Tests.Mdns;

public class ProbeTargetTests
{
    [Theory]
    [InlineData("esp32ws.local", "esp32ws.local", HostKind.Mdns, 8080, "/", false)]
    [InlineData("ESP32WS.LOCAL.", "ESP32WS.LOCAL", HostKind.Mdns, 8080, "/", false)]
    [InlineData("esp32ws.local:9000", "esp32ws.local", HostKind.Mdns, 9000, "/", false)]
    [InlineData("example.org", "example.org", HostKind.Dns, 8080, "/", false)]
    [InlineData("10.231.0.1", "10.231.0.1", HostKind.Address, 8080, "/", false)]
    [InlineData("10.231.0.1:81", "10.231.0.1", HostKind.Address, 81, "/", false)]
    [InlineData("fe80::1%3", "fe80::1%3", HostKind.Address, 8080, "/", false)]
    [InlineData("[fe80::1]:81", "fe80::1", HostKind.Address, 81, "/", false)]
    [InlineData("ws://esp32ws.local:8080/ws?x=1", "esp32ws.local", HostKind.Mdns, 8080, "/ws?x=1", false)]
    [InlineData("ws://10.0.0.5", "10.0.0.5", HostKind.Address, 80, "/", false)]
    [InlineData("wss://[::1]/", "::1", HostKind.Address, 443, "/", true)]
    public void Parse_AcceptedForms_GiveHostKindPortPath(string text, string host, HostKind kind, int port, string path, bool secure)
    {
        var target = ProbeTarget.Parse(text);

        Assert.Equal(new ProbeTarget(host, kind, port, path, secure), target);
    }

    [Fact]
    public void Parse_DefaultPortAndPath_ApplyToBareHost() =>
        Assert.Equal(new ProbeTarget("esp32ws.local", HostKind.Mdns, 81, "/ws", false), ProbeTarget.Parse("esp32ws.local", 81, "ws"));

    [Theory]
    [InlineData("")]
    [InlineData("http://esp32ws.local/")]
    [InlineData("esp32ws.local:0")]
    [InlineData("esp32ws.local:http")]
    [InlineData("[not-v6]:80")]
    [InlineData("two words")]
    public void Parse_Malformed_ThrowsInvalidInput(string text) =>
        Assert.Equal(FailureKind.InvalidInput, Assert.Throws<WsCoreException>(() => ProbeTarget.Parse(text)).Kind);

    [Fact]
    public void UriFor_IPv6LinkLocal_BracketsAndEscapesScope() =>
        Assert.Equal("ws://[fe80::1%253]:8080/", ProbeTarget.Parse("esp32ws.local").UriFor(IPAddress.Parse("fe80::1%3")).OriginalString);

    [Fact]
    public async Task ResolveAsync_AddressLiteral_ReturnsItWithoutLookup()
    {
        var result = await new HostResolver().ResolveAsync(ProbeTarget.Parse("10.1.2.3"), TimeSpan.FromSeconds(1));

        Assert.Equal("literal", result.Method);
        Assert.Equal([IPAddress.Parse("10.1.2.3")], result.Addresses);
    }

    [Fact]
    public async Task ResolveAsync_Localhost_UsesSystemResolver()
    {
        var result = await new HostResolver().ResolveAsync(ProbeTarget.Parse("localhost"), TimeSpan.FromSeconds(5));

        Assert.Equal("dns", result.Method);
        Assert.Contains(result.Addresses, IPAddress.IsLoopback);
    }

    [Fact]
    public void ToDevice_InstanceWithTxtPath_GivesUriOfFirstAddress()
    {
        var instance = new MdnsServiceInstance("esp32ws", "_ws._tcp.local", "esp32ws.local", 8080,
            [IPAddress.Parse("10.231.0.1"), IPAddress.Parse("fe80::1%2")], new Dictionary<string, string> { ["path"] = "/ws" }, "veth0");

        var device = DeviceDiscovery.ToDevice(instance);

        Assert.Equal(new Uri("ws://10.231.0.1:8080/ws"), device.Uri);
    }

    [Fact]
    public void ToDevice_InstanceWithoutSrv_HasNoTarget()
    {
        var instance = new MdnsServiceInstance("x", "_ws._tcp.local", null, 0, [], new Dictionary<string, string>(), "veth0");

        Assert.Null(DeviceDiscovery.ToDevice(instance).Target);
        Assert.Null(DeviceDiscovery.ToDevice(instance).Uri);
    }
}

public class ProbeReportTests
{
    [Fact]
    public async Task ResolveAsync_AddressLiteral_RecordsSucceededResolveStage()
    {
        var report = new ProbeReport(ProbeTarget.Parse("10.0.0.9:8080"));

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
        var report = new ProbeReport(ProbeTarget.Parse("10.0.0.9"));

        var ok = await report.RunStageAsync(ProbeStage.Connect, () => throw new WsCoreException(FailureKind.ConnectionFailed, "refused"));

        Assert.False(ok);
        Assert.Equal(ProbeVerdict.Failed, report.Verdict);
        Assert.Equal(FailureKind.ConnectionFailed, report.Failure);
        Assert.Equal("refused", report.Stages[0].Detail);
    }

    [Fact]
    public void Rtt_Samples_GiveMinAverageMax()
    {
        var report = new ProbeReport(ProbeTarget.Parse("10.0.0.9"));
        report.RoundTrips.AddRange([TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(4), TimeSpan.FromMilliseconds(9)]);

        Assert.Equal(new RttSummary(TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(9), 3), report.Rtt);
        Assert.Null(RttSummary.Of([]));
    }

    [Theory]
    [InlineData("esp32ws.local", null, false)]
    [InlineData("esp32ws.local", 8080, true)]
    [InlineData("esp32ws.local:8080", null, true)]
    [InlineData("esp32ws.local:9000", null, true)]
    [InlineData("ws://esp32ws.local/", null, true)]
    [InlineData("10.0.0.5", null, true)]
    public void Parse_PortGivenOnlyWhenSomethingNamedIt(string text, int? port, bool given) =>
        Assert.Equal(given, ProbeTarget.Parse(text, port).PortGiven);
}
