using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace WsCore.WebSockets.Protocol;

/// <summary>Outcome of <see cref="FrameHeader.TryRead"/>.</summary>
public enum FrameHeaderStatus
{
    /// <summary>The buffer holds less than a whole header; read more bytes and call again with all of them.</summary>
    NeedMoreData,
    /// <summary>A header was decoded.</summary>
    Complete,
    /// <summary>The 64-bit length has its most significant bit set, which §5.2 forbids.</summary>
    Invalid,
}

/// <summary>
/// The fixed part of a WebSocket frame (RFC 6455 §5.2): FIN, RSV1-3, opcode, MASK, payload length (7, 7+16 or 7+64
/// bits, network byte order) and the masking key. No I/O: reads from and writes to caller-owned spans.
/// </summary>
/// <remarks>The largest header is 14 bytes (2 + 8-byte length + 4-byte key); see <see cref="MaxLength"/>.</remarks>
public readonly record struct FrameHeader(
    bool Fin, byte Rsv, Opcode Opcode, bool Masked, uint MaskKey, long PayloadLength)
{
    /// <summary>The longest possible header: 2 bytes, a 64-bit length and a 4-byte masking key.</summary>
    public const int MaxLength = 14;

    /// <summary>The largest payload a control frame may carry (§5.5).</summary>
    public const int MaxControlPayload = 125;

    /// <summary>
    /// How many header bytes a frame needs, known from its second byte alone (the MASK bit and the 7-bit length).
    /// </summary>
    public static int RequiredLength(byte secondByte)
    {
        var length = (secondByte & 0x7F) switch
        {
            126 => 4,
            127 => 10,
            _ => 2,
        };
        return (secondByte & 0x80) != 0 ? length + 4 : length;
    }

    /// <summary>
    /// Decodes a header from the start of <paramref name="source"/>. Returns
    /// <see cref="FrameHeaderStatus.NeedMoreData"/> until the whole header is there, so a caller fed one byte at a time
    /// just keeps appending.
    /// </summary>
    /// <param name="source">Bytes received so far, starting at the frame's first byte.</param>
    /// <param name="header">The decoded header when the result is Complete.</param>
    /// <param name="headerLength">How many bytes of <paramref name="source"/> the header took.</param>
    /// <remarks>
    /// <see cref="MaskKey"/> holds the four key bytes in wire order, read in the machine's byte order, so that XOR
    /// over memory with <see cref="Masking"/> matches the byte-by-byte rule of §5.3.
    /// <para>A length carried in a wider field than it needs is accepted on purpose (65,535 in the 64-bit field is
    /// how ESP-IDF's httpd_ws sends a 65,535-byte message). §5.2 says "the minimal number of bytes MUST be used to
    /// encode the length": a duty of the sender, with no rule telling the receiver to fail the connection, and
    /// browsers accept such frames; a tool that talks to devices must too. What wsctl and its firmware send always
    /// uses the minimal form (<see cref="Write"/>).</para>
    /// </remarks>
    public static FrameHeaderStatus TryRead(ReadOnlySpan<byte> source, out FrameHeader header, out int headerLength)
    {
        header = default;
        headerLength = 0;
        if (source.Length < 2)
            return FrameHeaderStatus.NeedMoreData;
        var required = RequiredLength(source[1]);
        if (source.Length < required)
            return FrameHeaderStatus.NeedMoreData;

        var first = source[0];
        var second = source[1];
        long length = second & 0x7F;
        var offset = 2;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(source[2..]);
            offset = 4;
        }
        else if (length == 127)
        {
            var wide = BinaryPrimitives.ReadUInt64BigEndian(source[2..]);
            // §5.2: "the most significant bit MUST be 0".
            if (wide > long.MaxValue)
                return FrameHeaderStatus.Invalid;
            length = (long)wide;
            offset = 10;
        }
        var masked = (second & 0x80) != 0;
        uint key = 0;
        if (masked)
        {
            key = MemoryMarshal.Read<uint>(source.Slice(offset, 4));
            offset += 4;
        }
        header = new FrameHeader(
            (first & 0x80) != 0, (byte)((first >> 4) & 0x7), (Opcode)(first & 0x0F), masked, key, length);
        headerLength = offset;
        return FrameHeaderStatus.Complete;
    }

    /// <summary>The size of the header <see cref="Write"/> produces for this payload length.</summary>
    public static int GetLength(long payloadLength, bool masked) =>
        (payloadLength < 126 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10) + (masked ? 4 : 0);

    /// <summary>
    /// Writes a header with the shortest length encoding (§5.2) and returns its size. Does not mask the payload:
    /// call <see cref="Masking.Apply"/> on it with the same key.
    /// </summary>
    /// <param name="destination">At least <see cref="GetLength"/> bytes.</param>
    /// <param name="fin">True for the last (or only) frame of a message, and for every control frame.</param>
    /// <param name="opcode">The frame's opcode.</param>
    /// <param name="payloadLength">The payload size in bytes.</param>
    /// <param name="maskKey">The masking key (client frames, §5.3), in the layout <see cref="TryRead"/> documents; null
    /// for unmasked server frames.</param>
    /// <param name="rsv">The three reserved bits (RSV1 = 4: a permessage-deflate compressed message, RFC 7692 §6).
    /// </param>
    public static int Write(
        Span<byte> destination, bool fin, Opcode opcode, long payloadLength, uint? maskKey = null, byte rsv = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        destination[0] = (byte)((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (byte)opcode);
        var maskBit = maskKey.HasValue ? 0x80 : 0;
        int offset;
        if (payloadLength < 126)
        {
            destination[1] = (byte)(maskBit | (int)payloadLength);
            offset = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            offset = 4;
        }
        else
        {
            destination[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
            offset = 10;
        }
        if (maskKey is { } key)
        {
            MemoryMarshal.Write(destination.Slice(offset, 4), in key);
            offset += 4;
        }
        return offset;
    }
}
