using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace WsCore.WebSockets.Protocol;

/// <summary>
/// Payload masking (RFC 6455 §5.3): byte i is XORed with key byte (i mod 4). Applying it twice restores the data.
/// Vectorised with 256- and 128-bit vectors where the hardware has them, then 4 bytes at a time, then byte by byte.
/// </summary>
public static class Masking
{
    /// <summary>
    /// A fresh masking key from the cryptographic generator: §5.3 requires keys the server cannot predict, so that
    /// a page's script cannot make its frames look like something else to intermediaries (§10.3).
    /// </summary>
    public static uint NewKey()
    {
        Span<byte> bytes = stackalloc byte[4];
        RandomNumberGenerator.Fill(bytes);
        return MemoryMarshal.Read<uint>(bytes);
    }

    /// <summary>
    /// Masks or unmasks <paramref name="data"/> in place.
    /// </summary>
    /// <param name="data">The payload bytes (or a piece of them).</param>
    /// <param name="key">The key in the layout of <see cref="FrameHeader.MaskKey"/>.</param>
    /// <param name="offset">The position of <paramref name="data"/>'s first byte within the frame's payload, so a
    /// payload that arrives in pieces can be unmasked piece by piece.</param>
    public static void Apply(Span<byte> data, uint key, long offset = 0)
    {
        if (data.IsEmpty)
            return;
        var rotated = Rotate(key, (int)(offset & 3));
        ref var start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;
        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<byte>.Count)
        {
            var mask = Vector256.Create(rotated).AsByte();
            var last = length - (nuint)Vector256<byte>.Count;
            for (; i <= last; i += (nuint)Vector256<byte>.Count)
                (Vector256.LoadUnsafe(ref start, i) ^ mask).StoreUnsafe(ref start, i);
        }
        if (Vector128.IsHardwareAccelerated && length - i >= (nuint)Vector128<byte>.Count)
        {
            var mask = Vector128.Create(rotated).AsByte();
            var last = length - (nuint)Vector128<byte>.Count;
            for (; i <= last; i += (nuint)Vector128<byte>.Count)
                (Vector128.LoadUnsafe(ref start, i) ^ mask).StoreUnsafe(ref start, i);
        }
        for (; i + 4 <= length; i += 4)
        {
            ref var word = ref Unsafe.Add(ref start, i);
            Unsafe.WriteUnaligned(ref word, Unsafe.ReadUnaligned<uint>(ref word) ^ rotated);
        }
        // The tail: the vector and word loops each advance by a multiple of 4, so key position = i mod 4 = 0 here.
        // The key's bytes in memory order, lowest first (no stackalloc: it would cost every call a stack cookie).
        var keyBytes = BitConverter.IsLittleEndian ? rotated : BinaryPrimitives.ReverseEndianness(rotated);
        for (; i < length; i++, keyBytes >>= 8)
            Unsafe.Add(ref start, i) ^= (byte)keyBytes;
    }

    /// <summary>The byte-at-a-time rule of §5.3, as a reference for tests.</summary>
    internal static void ApplyScalar(Span<byte> data, uint key, long offset = 0)
    {
        Span<byte> keyBytes = stackalloc byte[4];
        MemoryMarshal.Write(keyBytes, in key);
        for (var i = 0; i < data.Length; i++)
            data[i] ^= keyBytes[(int)((offset + i) & 3)];
    }

    // The key as it applies from payload position (offset mod 4): key byte j moves to position (j - shift) mod 4.
    private static uint Rotate(uint key, int shift)
    {
        if (shift == 0)
            return key;
        return BitConverter.IsLittleEndian
            ? BitOperations.RotateRight(key, shift * 8)
            : BitOperations.RotateLeft(key, shift * 8);
    }
}
