using System.Runtime.InteropServices;

namespace WsCore.WebSockets.Protocol;

/// <summary>
/// The system's zlib (<c>libz.so.1</c>, always present on Debian), called directly for permessage-deflate (RFC 7692).
/// </summary>
/// <remarks>
/// <para>Why not <c>System.IO.Compression.DeflateStream</c>: it always compresses with a 32 KiB window (windowBits
/// 15) and has no reset, while RFC 7692 §7.1.2 lets a peer ask for a smaller window (<c>server_max_window_bits</c>,
/// <c>client_max_window_bits</c>, 8 to 15) and §7.1.1 for no context takeover (a reset after each message). Raw zlib
/// gives both: <c>deflateInit2</c> with windowBits -9..-15 and <c>deflateReset</c>/<c>inflateReset</c>.</para>
/// <para>zlib allocates through <see cref="Allocate"/>/<see cref="Free"/> here, which count the bytes in use, so the
/// memory a compressing connection costs is measured (<see cref="BytesInUse"/>), not guessed.</para>
/// <para>The <c>z_stream</c> lives in native memory: zlib keeps a pointer back to it in its state and checks it on
/// every call (since 1.2.9), so it must never move.</para>
/// </remarks>
internal static unsafe class NativeZlib
{
    public const int Ok = 0;
    public const int StreamEnd = 1;
    public const int NeedDictionary = 2;
    public const int BufferError = -5;
    public const int NoFlush = 0;
    public const int SyncFlush = 2;
    public const int Deflated = 8;
    public const int DefaultStrategy = 0;
    // Literals only, no back references: the one way to honour an 8-bit window, which zlib's raw deflate refuses
    // (deflateInit2 with windowBits -8 fails since zlib 1.2.9) while RFC 7692 §7.1.2 allows a peer to ask for it.
    public const int HuffmanOnly = 2;

    private const string Library = "libz.so.1";
    // Room in front of each block for its size, so that Free can count what it returns.
    private const int SizePrefix = 16;

    private static long s_bytesInUse;
    private static readonly Lazy<bool> s_available = new(Probe);

    /// <summary>Native memory zlib holds right now, over every stream of the process.</summary>
    public static long BytesInUse => Interlocked.Read(ref s_bytesInUse);

    /// <summary>True when the system zlib can be loaded.</summary>
    public static bool IsAvailable => s_available.Value;

    /// <summary>The <c>z_stream</c> of zlib.h as laid out on LP64 Linux (uLong: <see cref="CULong"/>).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public CULong TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public CULong TotalOut;
        public sbyte* Message;
        public void* State;
        // alloc_func and free_func: plain pointers here, set from the function pointers of Allocate and Free.
        public void* ZAlloc;
        public void* ZFree;
        public void* Opaque;
        public int DataType;
        public CULong Adler;
        public CULong Reserved;
    }

    /// <summary>A zeroed <c>z_stream</c> in native memory, with the counting allocator set.</summary>
    public static ZStream* NewStream()
    {
        var stream = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
        stream->ZAlloc = (delegate* unmanaged<void*, uint, uint, void*>)&Allocate;
        stream->ZFree = (delegate* unmanaged<void*, void*, void>)&Free;
        return stream;
    }

    public static void FreeStream(ZStream* stream) => NativeMemory.Free(stream);

    public static int DeflateInit(ZStream* stream, int level, int windowBits, int memLevel, int strategy) =>
        DeflateInit2(stream, level, Deflated, windowBits, memLevel, strategy, Version(), sizeof(ZStream));

    public static int InflateInit(ZStream* stream, int windowBits) =>
        InflateInit2(stream, windowBits, Version(), sizeof(ZStream));

    // zlib checks only that the caller's major version matches its own; handing back its own string always does.
    private static byte* Version() => ZlibVersion();

    private static bool Probe()
    {
        try
        {
            return ZlibVersion() is not null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [UnmanagedCallersOnly]
    private static void* Allocate(void* opaque, uint items, uint size)
    {
        var bytes = (nuint)items * size;
        var block = (byte*)NativeMemory.Alloc(bytes + SizePrefix);
        if (block is null)
            return null;
        *(nuint*)block = bytes;
        Interlocked.Add(ref s_bytesInUse, (long)bytes);
        return block + SizePrefix;
    }

    [UnmanagedCallersOnly]
    private static void Free(void* opaque, void* address)
    {
        var block = (byte*)address - SizePrefix;
        Interlocked.Add(ref s_bytesInUse, -(long)*(nuint*)block);
        NativeMemory.Free(block);
    }

    [DllImport(Library, EntryPoint = "zlibVersion")]
    private static extern byte* ZlibVersion();

    [DllImport(Library, EntryPoint = "deflateInit2_")]
    private static extern int DeflateInit2(
        ZStream* stream, int level, int method, int windowBits, int memLevel, int strategy, byte* version, int size);

    [DllImport(Library, EntryPoint = "deflate")]
    public static extern int Deflate(ZStream* stream, int flush);

    [DllImport(Library, EntryPoint = "deflateReset")]
    public static extern int DeflateReset(ZStream* stream);

    [DllImport(Library, EntryPoint = "deflateEnd")]
    public static extern int DeflateEnd(ZStream* stream);

    [DllImport(Library, EntryPoint = "inflateInit2_")]
    private static extern int InflateInit2(ZStream* stream, int windowBits, byte* version, int size);

    [DllImport(Library, EntryPoint = "inflate")]
    public static extern int Inflate(ZStream* stream, int flush);

    [DllImport(Library, EntryPoint = "inflateReset")]
    public static extern int InflateReset(ZStream* stream);

    [DllImport(Library, EntryPoint = "inflateEnd")]
    public static extern int InflateEnd(ZStream* stream);
}
