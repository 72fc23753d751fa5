using System.Text;
using WsCore.Improv;

namespace WsCore.Tests.Provision;

/// <summary>
/// The Improv serial encoding (improv-wifi.com/serial) byte for byte: packets are built here by hand, with the sums
/// worked out, so the tests do not trust the code under test.
/// </summary>
public sealed class ImprovCodecTests
{
    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    [Fact]
    public void WifiSettings_SpecExample_BytesAndChecksum()
    {
        // The spec's example RPC data: 01 1E 0C {MyWirelessAP} 10 {mysecurepassword}.
        byte[] data = [0x01, 0x1E, 0x0C, .. Ascii("MyWirelessAP"), 0x10, .. Ascii("mysecurepassword")];
        byte[] prefix = [.. Ascii("IMPROV"), 0x01, 0x03, (byte)data.Length];
        var sum = prefix.Concat(data).Sum(b => b);
        byte[] expected = [.. prefix, .. data, (byte)(sum & 0xFF), (byte)'\n'];

        Assert.Equal(expected, ImprovCodec.WifiSettings("MyWirelessAP", "mysecurepassword"));
    }

    [Fact]
    public void Rpc_RequestCurrentState_AsTheSdkWritesIt()
    {
        // I M P R O V 01 03 02 02 00: 477 + 1 + 3 + 2 + 2 = 0x1E5 → checksum 0xE5, then a newline
        // (serial.ts writePacketToStream).
        byte[] expected = [0x49, 0x4D, 0x50, 0x52, 0x4F, 0x56, 0x01, 0x03, 0x02, 0x02, 0x00, 0xE5, 0x0A];
        Assert.Equal(expected, ImprovCodec.Rpc(ImprovCommand.RequestCurrentState, []));
    }

    [Fact]
    public void WifiSettings_Utf8Ssid_LengthInBytes()
    {
        var packet = ImprovCodec.WifiSettings("Café", "");
        Assert.Equal(5, packet[11]); // "Café" is 5 bytes in UTF-8
        Assert.Equal(0, packet[17]); // an open network: no password bytes
    }

    [Fact]
    public void WifiSettings_TooLongForOnePacket_Refused() =>
        Assert.Throws<ArgumentException>(() => ImprovCodec.WifiSettings(new string('s', 200), new string('p', 60)));

    [Fact]
    public void TryParseResult_Strings_InOrder()
    {
        byte[] data = [0x03, 0x0A, 0x03, .. Ascii("abc"), 0x00, 0x04, .. Ascii("wxyz")];
        Assert.True(ImprovCodec.TryParseResult(data, out var command, out var strings));
        Assert.Equal(3, command);
        Assert.Equal(["abc", "", "wxyz"], strings);
    }

    [Theory]
    [InlineData(new byte[] { 0x01 })]                         // no length byte
    [InlineData(new byte[] { 0x01, 0x05, 0x01, 0x41 })]       // length says more than there is
    [InlineData(new byte[] { 0x01, 0x02, 0x05, 0x41 })]       // a string longer than the data
    public void TryParseResult_LengthsNotAddingUp_False(byte[] data) =>
        Assert.False(ImprovCodec.TryParseResult(data, out _, out _));

    [Fact]
    public void Reader_ConsoleTextBrokenHeadersAndSplitBytes_PacketsFound()
    {
        var reader = new ImprovReader();
        var state = Device(0x01, [0x04]);
        var result = Device(0x04, [0x02, 0x03, 0x02, (byte)'o', (byte)'k']);
        byte[] stream = [.. Ascii("I (312) boot: IMP ok\nIMPIMPROV\u0002"), .. state, .. Ascii("log\n"), .. result];
        foreach (var b in stream)
            reader.Feed([b]); // one byte at a time, as a slow UART delivers them
        Assert.True(reader.TryTake(out var first));
        Assert.Equal(ImprovPacketType.CurrentState, first.Type);
        Assert.Equal([0x04], first.Data);
        Assert.True(reader.TryTake(out var second));
        Assert.Equal(ImprovPacketType.RpcResult, second.Type);
        Assert.False(reader.TryTake(out _));
    }

    [Fact]
    public void Reader_BadChecksum_DroppedAndCounted()
    {
        var reader = new ImprovReader();
        var packet = Device(0x01, [0x02]);
        packet[^2] ^= 0x01;
        reader.Feed(packet);
        Assert.False(reader.TryTake(out _));
        Assert.Equal(1, reader.BadChecksums);
        reader.Feed(Device(0x01, [0x02]));
        Assert.True(reader.TryTake(out _));
    }

    // A device packet built by hand: prefix, data, the low byte of the sum, '\n'.
    private static byte[] Device(byte type, byte[] data)
    {
        byte[] body = [.. Ascii("IMPROV"), 0x01, type, (byte)data.Length, .. data];
        return [.. body, (byte)(body.Sum(b => b) & 0xFF), (byte)'\n'];
    }
}
