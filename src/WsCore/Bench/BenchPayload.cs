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

    /// <summary>The smallest JSON payload (<see cref="FillJson"/>): its fields with room for the counter.</summary>
    public const int JsonMinBytes = 128;

    private static ReadOnlySpan<byte> JsonSequence => "{\"seq\":\""u8;
    private static ReadOnlySpan<byte> JsonStamp => "\",\"t\":\""u8;
    private static ReadOnlySpan<byte> JsonCounter =>
        "\",\"type\":\"message\",\"data\":{\"sensor\":\"counter\",\"value\":"u8;
    private static ReadOnlySpan<byte> JsonPad => ",\"more\":\""u8;
    private static ReadOnlySpan<byte> JsonReadings =>
        "sensor=temp value=21.5 unit=C; sensor=rssi value=-61 unit=dBm; "u8;

    /// <summary>
    /// A JSON text message like the firmware's counter, exactly <paramref name="payload"/>'s length (at least
    /// <see cref="JsonMinBytes"/>): <c>{"seq":"HEX16","t":"HEX16","type":"message","data":{"sensor":"counter",
    /// "value":N},"more":"sensor=temp value=21.5 …"}</c>. The sequence number and stamp are in hex at fixed places so
    /// an answer is matched as with binary payloads; the rest is the repetitive text compression is for.
    /// </summary>
    public static void FillJson(Span<byte> payload, long sequence, long stamp)
    {
        var at = 0;
        Append(payload, ref at, JsonSequence);
        ((ulong)sequence).TryFormat(payload[at..], out var written, "x16");
        at += written;
        Append(payload, ref at, JsonStamp);
        ((ulong)stamp).TryFormat(payload[at..], out written, "x16");
        at += written;
        Append(payload, ref at, JsonCounter);
        ((uint)sequence).TryFormat(payload[at..], out written);
        at += written;
        payload[at++] = (byte)'}';
        Append(payload, ref at, JsonPad);
        for (var i = 0; at < payload.Length - 2; i++)
            payload[at++] = JsonReadings[i % JsonReadings.Length];
        payload[at++] = (byte)'"';
        payload[at] = (byte)'}';
    }

    /// <summary>Whether a <see cref="FillJson"/> payload carries <paramref name="tag"/>.</summary>
    public static bool JsonHasTag(ReadOnlySpan<byte> payload, long tag) =>
        payload.Length >= JsonMinBytes && payload.StartsWith(JsonSequence)
        && ulong.TryParse(payload.Slice(JsonSequence.Length, 16), System.Globalization.NumberStyles.HexNumber,
            null, out var sequence)
        && ((long)sequence & TagMask) == tag;

    private static void Append(Span<byte> payload, ref int at, ReadOnlySpan<byte> text)
    {
        text.CopyTo(payload[at..]);
        at += text.Length;
    }
}
