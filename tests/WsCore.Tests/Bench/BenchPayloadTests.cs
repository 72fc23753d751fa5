using WsCore.Bench;

namespace WsCore.Tests.Bench;

/// <summary>
/// What travels in a bench message: sequence number, timestamp, tag and pattern, and how a change shows.
/// </summary>
public sealed class BenchPayloadTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(1_024)]
    public void Fill_ThenRead_SequenceStampAndPatternComeBack(int size)
    {
        var payload = new byte[size];
        var sequence = (7L << 32) | 12;

        BenchPayload.Fill(payload, sequence, stamp: 123_456_789);

        Assert.Equal(sequence, BenchPayload.Sequence(payload));
        Assert.Equal(123_456_789, BenchPayload.Stamp(payload));
        Assert.True(BenchPayload.PatternIntact(payload));
        Assert.True(BenchPayload.HasTag(payload, 7L << 32));
        Assert.False(BenchPayload.HasTag(payload, 8L << 32));
    }

    [Fact]
    public void PatternIntact_OneByteChanged_False()
    {
        var payload = new byte[64];
        BenchPayload.Fill(payload, 3, 0);
        payload[40] ^= 1;

        Assert.False(BenchPayload.PatternIntact(payload));
    }

    [Fact]
    public void PatternIntact_SequenceNumberChanged_False()
    {
        // Another message's number in front of this message's bytes: the pattern is the other number's.
        var payload = new byte[64];
        BenchPayload.Fill(payload, 3, 0);
        payload[0] = 4;

        Assert.False(BenchPayload.PatternIntact(payload));
    }

    [Fact]
    public void HeaderBytes_IsTheSmallestMessageTheGeneratorTakes()
    {
        Assert.Equal(BenchPayload.HeaderBytes, LoadGenerator.MinMessageBytes);
    }
}
