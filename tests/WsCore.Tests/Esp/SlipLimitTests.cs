using WsCore.Esp;

namespace WsCore.Tests.Esp;

public class SlipLimitTests
{
    [Fact]
    public void Decode_FrameLongerThanTheLimit_IsDroppedAsNoise_AndTheNextEndStartsAFrame()
    {
        var decoder = new SlipDecoder(maxFrameLength: 4);
        byte[] input = [0xC0, 1, 2, 0xDB, 0xDC, 4, 5, 6, 0xC0, 0x07, 0xC0];

        Assert.Equal(SlipDecodeStatus.FrameTooLong, decoder.Decode(input, out var consumed, out var dropped));
        Assert.Null(dropped);
        Assert.Equal(7, consumed); // the fifth byte of the frame (5) overflowed it
        Assert.Equal(SlipDecodeStatus.Frame, decoder.Decode(input.AsSpan(consumed), out _, out var frame));
        Assert.Equal(new byte[] { 0x07 }, frame);
        Assert.Equal(6, decoder.NoiseBytes); // 1, 2, 0xC0 (escaped), 4, 5 and then 6 outside any frame
    }

    [Fact]
    public void Decode_FrameOfExactlyTheLimit_IsKept()
    {
        var decoder = new SlipDecoder(maxFrameLength: 3);
        Assert.Equal(SlipDecodeStatus.Frame, decoder.Decode([0xC0, 1, 2, 3, 0xC0], out _, out var frame));
        Assert.Equal(new byte[] { 1, 2, 3 }, frame);
        Assert.Equal(0, decoder.NoiseBytes);
    }

    [Fact]
    public void Limit_HoldsTheLongestFrameALoaderSends_WithRoomToSpare()
    {
        Assert.True(Slip.MaxFrameLength >= Slip.LongestExpectedFrame * 2);
        var sector = new byte[Slip.LongestExpectedFrame];
        Random.Shared.NextBytes(sector);
        var decoder = new SlipDecoder();
        Assert.Equal(SlipDecodeStatus.Frame, decoder.Decode(Slip.Encode(sector), out _, out var frame));
        Assert.Equal(sector, frame);
    }

    /// <summary>
    /// Megabytes after a start byte and no end (a noisy line, a hostile socket:// peer): the decoder's buffer stops at
    /// the limit and nothing it allocates grows with the input; a frame after the noise decodes.
    /// </summary>
    [Fact]
    public void Decode_MegabytesWithoutEnd_BufferStaysAtTheLimit_AllocationsFlat_ThenAFrameDecodes()
    {
        const int noiseBytes = 16 * 1024 * 1024;
        var chunk = new byte[64 * 1024];
        chunk.AsSpan().Fill(0x55);
        var decoder = new SlipDecoder();
        Assert.Equal(SlipDecodeStatus.NeedMoreData, decoder.Decode([0xC0], out _, out _));
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var tooLong = 0;

        for (var fed = 0; fed < noiseBytes; fed += chunk.Length)
        {
            ReadOnlySpan<byte> rest = chunk;
            while (!rest.IsEmpty)
            {
                if (decoder.Decode(rest, out var consumed, out _) == SlipDecodeStatus.FrameTooLong)
                    tooLong++;
                rest = rest[consumed..];
            }
        }

        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore, 0, 4 * Slip.MaxFrameLength);
        Assert.Equal(Slip.MaxFrameLength, decoder.BufferSize);
        Assert.Equal(1, tooLong);
        Assert.Equal(noiseBytes, decoder.NoiseBytes);
        Assert.Equal(SlipDecodeStatus.Frame, decoder.Decode([0xC0, 0x01, 0x08, 0xC0], out _, out var frame));
        Assert.Equal(new byte[] { 0x01, 0x08 }, frame);
    }
}
