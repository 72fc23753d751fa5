using System.Runtime.InteropServices;

namespace WsCore.Esp;

/// <summary>
/// The system's zlib (libz.so.1), called directly. esptool sends <c>zlib.compress(image, 9)</c>, which is zlib's
/// <c>compress2</c> at level 9 in the zlib Python links against: the same library gives byte-for-byte the same
/// stream, so wsctl never sends more than esptool. .NET's own ZLibStream is zlib-ng, whose output differs.
/// </summary>
internal static unsafe partial class SystemZlib
{
    private const int ZOk = 0;

    /// <summary>zlib's <c>compress2</c> at <paramref name="level"/>; false when no system zlib can be loaded.</summary>
    public static bool TryCompress(ReadOnlySpan<byte> source, int level, out byte[] compressed)
    {
        compressed = [];
        try
        {
            var bound = (int)CompressBound(new CULong((nuint)source.Length)).Value;
            var destination = new byte[bound];
            var length = new CULong((nuint)bound);
            fixed (byte* src = source)
            fixed (byte* dst = destination)
            {
                if (Compress2(dst, &length, src, new CULong((nuint)source.Length), level) != ZOk)
                    return false;
            }
            compressed = destination.AsSpan(0, (int)length.Value).ToArray();
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libz.so.1", EntryPoint = "compress2")]
    private static extern int Compress2(byte* dest, CULong* destLen, byte* source, CULong sourceLen, int level);

    [DllImport("libz.so.1", EntryPoint = "compressBound")]
    private static extern CULong CompressBound(CULong sourceLen);
}
