using WsCore.Esp;

namespace WsCore.Tests.Esp;

public class SlipTests
{
    [Fact]
    public void Encode_EscapesDbThenC0_AndFrames()
    {
        Assert.Equal(
            new byte[] { 0xC0, 0x01, 0xDB, 0xDD, 0xDB, 0xDC, 0x02, 0xC0 }, Slip.Encode([0x01, 0xDB, 0xC0, 0x02]));
        Assert.Equal(8, Slip.EncodedLength([0x01, 0xDB, 0xC0, 0x02]));
    }

    [Fact]
    public void Decode_NoiseBeforeFrame_IsSkippedAndCounted()
    {
        var decoder = new SlipDecoder();
        var input = "boot:0x13\r\n"u8.ToArray().Concat(new byte[] { 0xC0, 0x01, 0xDB, 0xDC, 0xC0 }).ToArray();
        Assert.Equal(SlipDecodeStatus.Frame, decoder.Decode(input, out var consumed, out var frame));
        Assert.Equal(input.Length, consumed);
        Assert.Equal(new byte[] { 0x01, 0xC0 }, frame);
        Assert.Equal(11, decoder.NoiseBytes);
    }

    [Fact]
    public void Decode_EmptyFrames_AreSkipped()
    {
        var decoder = new SlipDecoder();
        Assert.Equal(SlipDecodeStatus.Frame, decoder.Decode([0xC0, 0xC0, 0xC0, 0x05, 0xC0], out _, out var frame));
        Assert.Equal(new byte[] { 0x05 }, frame);
    }

    [Fact]
    public void Decode_SplitAcrossCalls_ReassemblesFrame()
    {
        var decoder = new SlipDecoder();
        Assert.Equal(SlipDecodeStatus.NeedMoreData, decoder.Decode([0xC0, 0x01, 0xDB], out var c1, out _));
        Assert.Equal(3, c1);
        Assert.Equal(SlipDecodeStatus.Frame, decoder.Decode([0xDD, 0x02, 0xC0, 0xAA], out var c2, out var frame));
        Assert.Equal(3, c2);
        Assert.Equal(new byte[] { 0x01, 0xDB, 0x02 }, frame);
    }

    [Fact]
    public void Decode_BadEscape_ReportsErrorThenRecovers()
    {
        var decoder = new SlipDecoder();
        var input = new byte[] { 0xC0, 0x01, 0xDB, 0x00, 0x02, 0xC0, 0xC0, 0x07, 0xC0 };
        Assert.Equal(SlipDecodeStatus.BadEscape, decoder.Decode(input, out var consumed, out _));
        Assert.Equal(SlipDecodeStatus.Frame, decoder.Decode(input.AsSpan(consumed), out _, out var frame));
        Assert.Equal(new byte[] { 0x07 }, frame);
    }
}
