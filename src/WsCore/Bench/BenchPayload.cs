using System.Buffers.Binary;

namespace WsCore.Bench;

/// <summary>
/// What the load generator puts in a message, so an answer can be matched to what was sent and checked byte for byte:
/// a u64 sequence number, the i64 <see cref="System.Diagnostics.Stopwatch"/> timestamp of the send, then a pattern
/// derived from the sequence number. In ping and echo the sequence number's high half is the connection's random tag
/// and the low half counts, so what another connection sent, relayed here, is not taken for an answer.
/// </summary>
internal static class BenchPayload
{
    /// <summary>The sequence number and the timestamp: the smallest payload.</summary>
    public const int HeaderBytes = 16;

    /// <summary>The tag's bits in a sequence number (ping and echo).</summary>
    public const long TagMask = unchecked((long)0xFFFF_FFFF_0000_0000);

    /// <summary>Writes <paramref name="sequence"/>, <paramref name="stamp"/> and the pattern over all of
    /// <paramref name="payload"/> (at least <see cref="HeaderBytes"/> long).</summary>
    public static void Fill(Span<byte> payload, long sequence, long stamp)
    {
        BinaryPrimitives.WriteInt64LittleEndian(payload, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], stamp);
        var seed = PatternSeed(sequence);
        for (var i = HeaderBytes; i < payload.Length; i++)
            payload[i] = (byte)(seed + i);
    }

    /// <summary>Whether the bytes after the header are the pattern of the sequence number in front of them.</summary>
    public static bool PatternIntact(ReadOnlySpan<byte> payload)
    {
        var seed = PatternSeed(Sequence(payload));
        for (var i = HeaderBytes; i < payload.Length; i++)
            if (payload[i] != (byte)(seed + i))
                return false;
        return true;
    }

    public static long Sequence(ReadOnlySpan<byte> payload) => BinaryPrimitives.ReadInt64LittleEndian(payload);

    public static long Stamp(ReadOnlySpan<byte> payload) => BinaryPrimitives.ReadInt64LittleEndian(payload[8..]);

    /// <summary>Whether <paramref name="payload"/> carries <paramref name="tag"/> (a connection's, in ping and
    /// echo).</summary>
    public static bool HasTag(ReadOnlySpan<byte> payload, long tag) => (Sequence(payload) & TagMask) == tag;

    private static byte PatternSeed(long sequence) => (byte)(sequence * 31 + 7);
}
