using System.Net;
using WsCore.Mdns;
using WsCore.Targets;
using WsCore.WebSockets.Client;

namespace WsCore.Tests.Mdns;

public class HostResolverTests
{
    [Fact]
    public async Task ResolveAsync_AddressLiteral_ReturnsItWithoutLookup()
    {
        var result = await new HostResolver().ResolveAsync(WebSocketTarget.Parse("10.1.2.3"), TimeSpan.FromSeconds(1));

        Assert.Equal("literal", result.Method);
        Assert.Equal([IPAddress.Parse("10.1.2.3")], result.Addresses);
    }

    [Fact]
    public async Task ResolveAsync_Localhost_UsesSystemResolver()
    {
        var result = await new HostResolver().ResolveAsync(WebSocketTarget.Parse("localhost"), TimeSpan.FromSeconds(5));

        Assert.Equal("dns", result.Method);
        Assert.Contains(result.Addresses, IPAddress.IsLoopback);
    }

    [Fact]
    public void ToDevice_InstanceWithTxtPath_GivesUriOfFirstAddress()
    {
        var instance = new MdnsServiceInstance("esp32ws", "_ws._tcp.local", "esp32ws.local", 8080,
            [IPAddress.Parse("10.231.0.1"), IPAddress.Parse("fe80::1%2")],
            new Dictionary<string, string> { ["path"] = "/ws" }, "veth0");

        var device = DeviceDiscovery.ToDevice(instance);

        Assert.Equal(new Uri("ws://10.231.0.1:8080/ws"), device.Uri);
    }

    [Fact]
    public void ToDevice_InstanceWithoutSrv_HasNoTarget()
    {
        var instance = new MdnsServiceInstance("x", "_ws._tcp.local", null, 0, [], new Dictionary<string, string>(),
            "veth0");

        Assert.Null(DeviceDiscovery.ToDevice(instance).Target);
        Assert.Null(DeviceDiscovery.ToDevice(instance).Uri);
    }
}
