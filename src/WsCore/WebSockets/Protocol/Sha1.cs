using System.Buffers.Binary;
using System.Numerics;

namespace WsCore.WebSockets.Protocol;

/// <summary>
/// SHA-1 (RFC 3174), for the one use the WebSocket handshake makes of it: <c>Sec-WebSocket-Accept</c>, a hash of the
/// client's key and a GUID (RFC 6455 §1.3), 84 bytes, two blocks. No I/O and no allocation.
/// </summary>
/// <remarks>
/// The runtime's <c>SHA1</c> is OpenSSL on Linux: the first handshake would load libcrypto and the runtime's
/// cryptography assembly into a server that has no other use for them (about 4.5 MB resident, a third of what 10,000
/// idle clients hold), so the hash is computed here, as uWebSockets, mongoose and the firmware's own server do. Not
/// for security: the accept value only proves that the server read the handshake (RFC 6455 §10.3). Checked against
/// the runtime's SHA-1 over every length around the block boundaries in the tests.
/// </remarks>
public static class Sha1
{
    /// <summary>The size of a digest.</summary>
    public const int HashSizeInBytes = 20;

    private const int BlockBytes = 64;

    /// <summary>Writes the SHA-1 digest of <paramref name="data"/> to the first 20 bytes of
    /// <paramref name="hash"/>.</summary>
    public static void HashData(ReadOnlySpan<byte> data, Span<byte> hash)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hash.Length, HashSizeInBytes, nameof(hash));
        Span<uint> state = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
        var whole = data.Length - data.Length % BlockBytes;
        for (var offset = 0; offset < whole; offset += BlockBytes)
            Compress(state, data.Slice(offset, BlockBytes));

        // Padding (RFC 3174 §4): a 1 bit, zeros, then the message length in bits as a big-endian 64-bit number, in
        // one block or, when fewer than 9 bytes are left in it, two.
        Span<byte> tail = stackalloc byte[2 * BlockBytes];
        tail.Clear();
        var rest = data[whole..];
        rest.CopyTo(tail);
        tail[rest.Length] = 0x80;
        var tailLength = rest.Length + 1 + 8 <= BlockBytes ? BlockBytes : 2 * BlockBytes;
        BinaryPrimitives.WriteUInt64BigEndian(tail[(tailLength - 8)..], (ulong)data.Length * 8);
        for (var offset = 0; offset < tailLength; offset += BlockBytes)
            Compress(state, tail.Slice(offset, BlockBytes));

        for (var i = 0; i < state.Length; i++)
            BinaryPrimitives.WriteUInt32BigEndian(hash[(i * 4)..], state[i]);
    }

    // One 512-bit block (RFC 3174 §6.1, method 1).
    private static void Compress(Span<uint> state, ReadOnlySpan<byte> block)
    {
        Span<uint> w = stackalloc uint[80];
        for (var t = 0; t < 16; t++)
            w[t] = BinaryPrimitives.ReadUInt32BigEndian(block[(t * 4)..]);
        for (var t = 16; t < 80; t++)
            w[t] = BitOperations.RotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

        uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
        for (var t = 0; t < 80; t++)
        {
            var (f, k) = t switch
            {
                < 20 => ((b & c) | (~b & d), 0x5A827999u),
                < 40 => (b ^ c ^ d, 0x6ED9EBA1u),
                < 60 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDCu),
                _ => (b ^ c ^ d, 0xCA62C1D6u),
            };
            var temp = BitOperations.RotateLeft(a, 5) + f + e + w[t] + k;
            e = d;
            d = c;
            c = BitOperations.RotateLeft(b, 30);
            b = a;
            a = temp;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
    }
}
