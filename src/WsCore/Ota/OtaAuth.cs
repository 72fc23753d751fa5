using System.Buffers.Binary;
using System.Security.Cryptography;

namespace WsCore.Ota;

/// <summary>
/// The authenticators of <c>begin</c> and <c>confirm</c>: HMAC-SHA256 (RFC 2104) under the device's key, over the
/// protocol name, the connection's single-use nonce, the message's name and the values it commits to, exactly as
/// docs/ota-protocol.md §2 and §5 lay them out. Pure.
/// </summary>
public static class OtaAuth
{
    private static readonly byte[] ProtocolName = "wsctl-ota.1"u8.ToArray();

    /// <summary>
    /// HMAC-SHA256(key, "wsctl-ota.1" ‖ nonce (32 bytes) ‖ "begin" ‖ size (8 bytes, big-endian) ‖ sha256 (32
    /// bytes) ‖ force (1 byte, 0 or 1)).
    /// </summary>
    public static byte[] Begin(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, long size, ReadOnlySpan<byte> sha256,
        bool force)
    {
        CheckLengths(nonce, sha256, nameof(sha256));
        Span<byte> message = stackalloc byte[ProtocolName.Length + OtaProtocol.NonceBytes + 5 + 8 + 32 + 1];
        var at = Start(message, nonce, "begin"u8);
        BinaryPrimitives.WriteInt64BigEndian(message[at..], size);
        at += 8;
        sha256.CopyTo(message[at..]);
        at += 32;
        message[at++] = force ? (byte)1 : (byte)0;
        return HMACSHA256.HashData(key, message[..at]);
    }

    /// <summary>HMAC-SHA256(key, "wsctl-ota.1" ‖ nonce (32 bytes) ‖ "confirm" ‖ elf_sha256 (32 bytes)).</summary>
    public static byte[] Confirm(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> elfSha256)
    {
        CheckLengths(nonce, elfSha256, nameof(elfSha256));
        Span<byte> message = stackalloc byte[ProtocolName.Length + OtaProtocol.NonceBytes + 7 + 32];
        var at = Start(message, nonce, "confirm"u8);
        elfSha256.CopyTo(message[at..]);
        return HMACSHA256.HashData(key, message[..(at + 32)]);
    }

    private static int Start(Span<byte> message, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> name)
    {
        ProtocolName.CopyTo(message);
        nonce.CopyTo(message[ProtocolName.Length..]);
        name.CopyTo(message[(ProtocolName.Length + OtaProtocol.NonceBytes)..]);
        return ProtocolName.Length + OtaProtocol.NonceBytes + name.Length;
    }

    private static void CheckLengths(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> hash, string hashName)
    {
        if (nonce.Length != OtaProtocol.NonceBytes)
            throw new ArgumentException($"the nonce is {nonce.Length} bytes, not {OtaProtocol.NonceBytes}",
                nameof(nonce));
        if (hash.Length != 32)
            throw new ArgumentException($"{hashName} is {hash.Length} bytes, not 32", hashName);
    }
}
