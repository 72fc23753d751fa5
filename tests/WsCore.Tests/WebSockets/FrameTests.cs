using System.Runtime.InteropServices;
using WsCore.WebSockets.Protocol;

namespace WsCore.Tests.WebSockets;

/// <summary>Frame header and masking, byte for byte against RFC 6455 §5.7.</summary>
public class FrameTests
{
    private static readonly byte[] Hello = "Hello"u8.ToArray();
    // §5.7: masking key 37 fa 21 3d, in the layout FrameHeader.MaskKey uses (wire order read in machine order).
    private static readonly uint Rfc57Key = MemoryMarshal.Read<uint>(new byte[] { 0x37, 0xfa, 0x21, 0x3d });

    private static byte[] Encode(Opcode opcode, byte[] payload, bool fin = true, uint? key = null)
    {
        var frame = new byte[FrameEncoder.GetFrameLength(payload.Length, key.HasValue)];
        Assert.Equal(frame.Length, FrameEncoder.Encode(frame, opcode, payload, fin, key));
        return frame;
    }

    [Fact]
    public void Encode_UnmaskedHello_IsRfc57Example() =>
        Assert.Equal(new byte[] { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f }, Encode(Opcode.Text, Hello));

    [Fact]
    public void Encode_MaskedHello_IsRfc57Example() =>
        Assert.Equal(
            new byte[] { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 },
            Encode(Opcode.Text, Hello, key: Rfc57Key));

    [Fact]
    public void Encode_FragmentedHello_IsRfc57Example()
    {
        Assert.Equal(new byte[] { 0x01, 0x03, 0x48, 0x65, 0x6c }, Encode(Opcode.Text, "Hel"u8.ToArray(), fin: false));
        Assert.Equal(new byte[] { 0x80, 0x02, 0x6c, 0x6f }, Encode(Opcode.Continuation, "lo"u8.ToArray()));
    }

    [Fact]
    public void Encode_PingAndMaskedPong_AreRfc57Examples()
    {
        Assert.Equal(new byte[] { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f }, Encode(Opcode.Ping, Hello));
        Assert.Equal(
            new byte[] { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 },
            Encode(Opcode.Pong, Hello, key: Rfc57Key));
    }

    [Fact]
    public void Encode_256ByteBinary_Uses16BitLength()
    {
        var frame = Encode(Opcode.Binary, new byte[256]);
        Assert.Equal(new byte[] { 0x82, 0x7E, 0x01, 0x00 }, frame[..4]);
        Assert.Equal(4 + 256, frame.Length);
    }

    [Fact]
    public void Encode_64KiBBinary_Uses64BitLength()
    {
        var frame = Encode(Opcode.Binary, new byte[65536]);
        Assert.Equal(new byte[] { 0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00 }, frame[..10]);
        Assert.Equal(10 + 65536, frame.Length);
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(125, 2)]
    [InlineData(126, 4)]
    [InlineData(65535, 4)]
    [InlineData(65536, 10)]
    public void GetLength_BoundaryLengths_UseShortestEncoding(int length, int headerBytes)
    {
        Assert.Equal(headerBytes, FrameHeader.GetLength(length, masked: false));
        Assert.Equal(headerBytes + 4, FrameHeader.GetLength(length, masked: true));
    }

    [Fact]
    public void TryRead_MaskedHelloFedOneByteAtATime_NeedsMoreUntilTheLastHeaderByte()
    {
        var frame = new byte[] { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
        for (var have = 0; have < 6; have++)
            Assert.Equal(FrameHeaderStatus.NeedMoreData, FrameHeader.TryRead(frame.AsSpan(0, have), out _, out _));
        Assert.Equal(
            FrameHeaderStatus.Complete, FrameHeader.TryRead(frame.AsSpan(0, 6), out var header, out var length));
        Assert.Equal(6, length);
        Assert.Equal(new FrameHeader(true, 0, Opcode.Text, true, Rfc57Key, 5), header);
    }

    [Fact]
    public void TryRead_64BitLengthFedOneByteAtATime_CompletesAtByte10()
    {
        var frame = Encode(Opcode.Binary, new byte[65536]);
        for (var have = 0; have < 10; have++)
            Assert.Equal(FrameHeaderStatus.NeedMoreData, FrameHeader.TryRead(frame.AsSpan(0, have), out _, out _));
        Assert.Equal(FrameHeaderStatus.Complete, FrameHeader.TryRead(frame.AsSpan(0, 10), out var header, out _));
        Assert.Equal(65536, header.PayloadLength);
    }

    [Fact]
    public void TryRead_64BitLengthWithHighBit_IsInvalid()
    {
        var frame = new byte[] { 0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1 };
        Assert.Equal(FrameHeaderStatus.Invalid, FrameHeader.TryRead(frame, out _, out _));
    }

    [Fact]
    public void TryRead_RsvBitsAndOpcode_AreReported()
    {
        Assert.Equal(FrameHeaderStatus.Complete, FrameHeader.TryRead(new byte[] { 0x73, 0x00 }, out var header, out _));
        Assert.False(header.Fin);
        Assert.Equal(7, header.Rsv);
        Assert.Equal((Opcode)3, header.Opcode);
    }

    [Fact]
    public void Apply_ManyLengthsAndOffsets_EqualsScalarReference()
    {
        var random = new Random(6455);
        foreach (var length in new[] { 0, 1, 2, 3, 4, 5, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 255, 1000,
            4099 })
        {
            for (var offset = 0; offset < 8; offset++)
            {
                var data = new byte[length];
                random.NextBytes(data);
                var key = (uint)random.Next() ^ ((uint)random.Next() << 16);
                var expected = data.ToArray();
                Masking.ApplyScalar(expected, key, offset);
                var actual = data.ToArray();
                Masking.Apply(actual, key, offset);
                Assert.Equal(expected, actual);
                Masking.Apply(actual, key, offset);
                Assert.Equal(data, actual);
            }
        }
    }

    [Fact]
    public void Apply_InPieces_EqualsWhole()
    {
        var data = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        var whole = data.ToArray();
        Masking.Apply(whole, 0xA1B2C3D4);
        var pieces = data.ToArray();
        foreach (var (start, end) in new[] { (0, 1), (1, 38), (38, 101), (101, 300) })
            Masking.Apply(pieces.AsSpan(start, end - start), 0xA1B2C3D4, start);
        Assert.Equal(whole, pieces);
    }

    [Fact]
    public void NewKey_TwoKeys_Differ() => Assert.NotEqual(Masking.NewKey(), Masking.NewKey());

    [Theory]
    [InlineData(1000, true)]
    [InlineData(1003, true)]
    [InlineData(1007, true)]
    [InlineData(1011, true)]
    [InlineData(3000, true)]
    [InlineData(4999, true)]
    [InlineData(0, false)]
    [InlineData(999, false)]
    [InlineData(1004, false)]
    [InlineData(1005, false)]
    [InlineData(1006, false)]
    [InlineData(1015, false)]
    [InlineData(1016, false)]
    [InlineData(2999, false)]
    [InlineData(5000, false)]
    public void IsValidOnWire_Codes_FollowRfc74(int code, bool valid) => Assert.Equal(
        valid, CloseStatus.IsValidOnWire(code));

    [Fact]
    public void WriteClosePayload_LongMultibyteReason_IsCutAtACharacterBoundary()
    {
        var payload = new byte[125];
        var length = FrameEncoder.WriteClosePayload(payload, 1000, new string('é', 100));
        Assert.True(length <= 125);
        Assert.True(Utf8Validator.IsValid(payload.AsSpan(2, length - 2)));
    }
}
