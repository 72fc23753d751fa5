using Makaretu.Dns;
using WsCore.Mdns;

namespace WsCore.Tests.Mdns;

public class MdnsTxtTests
{
    [Fact]
    public void Encode_Entries_AreKeyEqualsValueInOrder() =>
        Assert.Equal(["path=/", "max_clients=5", "version=1.2"],
            MdnsTxt.Encode([new("path", "/"), new("max_clients", "5"), new("version", "1.2")]));

    [Fact]
    public void Encode_NoEntries_GivesOneEmptyString() => Assert.Equal([""], MdnsTxt.Encode([]));

    [Theory]
    [InlineData("")]
    [InlineData("a=b")]
    public void Encode_BadKey_ThrowsInvalidInput(string key) =>
        Assert.Equal(
            FailureKind.InvalidInput, Assert.Throws<WsCoreException>(() => MdnsTxt.Encode([new(key, "x")])).Kind);

    [Fact]
    public void Encode_EntryOver255Bytes_ThrowsInvalidInput() =>
        Assert.Throws<WsCoreException>(() => MdnsTxt.Encode([new("k", new string('x', 254))]));

    [Fact]
    public void Decode_Rfc6763Rules_FirstKeyWinsCaseInsensitiveBooleanEmpty()
    {
        var txt = MdnsTxt.Decode(["path=/ws", "PATH=/other", "secure", "", "=orphan", "eq=a=b"]);

        Assert.Equal("/ws", txt["Path"]);
        Assert.Equal("", txt["secure"]);
        Assert.Equal("a=b", txt["eq"]);
        Assert.Equal(3, txt.Count);
    }

    [Fact]
    public void TxtRecord_OnTheWire_IsLengthPrefixedStrings()
    {
        var record = new TXTRecord
        {
            Name = new DomainName("x", "_ws", "_tcp", "local"),
            Strings = MdnsTxt.Encode([new("path", "/")])
        };

        // RFC 6763 §6.1: each string is one length byte followed by its bytes.
        Assert.Equal(
            new byte[] { 6, (byte)'p', (byte)'a', (byte)'t', (byte)'h', (byte)'=', (byte)'/' }, record.GetData());
    }
}
