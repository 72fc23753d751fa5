using WsCore.Mdns;

namespace WsCore.Tests.Mdns;

/// <summary>Input checks at the API edge: they fail before any socket is opened (safe in the root namespace).</summary>
public class MdnsApiEdgeTests
{
    [Fact]
    public void Select_UnknownInterfaceName_ThrowsInvalidInputWithHint()
    {
        var ex = Assert.Throws<WsCoreException>(() => MdnsInterfaces.Select("no-such-if0"));

        Assert.Equal(FailureKind.InvalidInput, ex.Kind);
        Assert.Contains("no-such-if0", ex.Message);
        Assert.NotNull(ex.Hint);
    }

    [Fact]
    public async Task ResolveAsync_MalformedName_ThrowsInvalidInput()
    {
        var ex = await Assert.ThrowsAsync<WsCoreException>(() => new MdnsClient().ResolveAsync(
            "two.labels.local", TimeSpan.FromSeconds(1)));

        Assert.Equal(FailureKind.InvalidInput, ex.Kind);
    }

    [Fact]
    public async Task BrowseAsync_MalformedServiceType_ThrowsInvalidInput()
    {
        var ex = await Assert.ThrowsAsync<WsCoreException>(() => new MdnsClient().BrowseAsync(
            "ws", TimeSpan.FromSeconds(1)));

        Assert.Equal(FailureKind.InvalidInput, ex.Kind);
    }

    [Fact]
    public async Task StartAsync_InstanceNameOver63Bytes_ThrowsInvalidInput()
    {
        var service = ServiceAdvertisement.WebSocket(new string('x', 64), 8080, "/", 5, "1");

        var ex = await Assert.ThrowsAsync<WsCoreException>(() => MdnsResponder.StartAsync("host", service));

        Assert.Equal(FailureKind.InvalidInput, ex.Kind);
    }
}
