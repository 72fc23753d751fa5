using System.Buffers.Binary;

namespace WsCore.Esp;

/// <summary>The ROM loader's command ids (esptool <c>ESPLoader.ESP_CMDS</c>; esp32-rom-protocol.md §3).</summary>
public enum RomCommand : byte
{
    FlashBegin = 0x02,
    FlashData = 0x03,
    FlashEnd = 0x04,
    MemBegin = 0x05,
    MemEnd = 0x06,
    MemData = 0x07,
    Sync = 0x08,
    WriteReg = 0x09,
    ReadReg = 0x0A,
    SpiSetParams = 0x0B,
    SpiAttach = 0x0D,
    ReadFlashSlow = 0x0E,
    ChangeBaudrate = 0x0F,
    FlashDeflBegin = 0x10,
    FlashDeflData = 0x11,
    FlashDeflEnd = 0x12,
    SpiFlashMd5 = 0x13,
    GetSecurityInfo = 0x14,
}

/// <summary>
/// Error codes in a failing response's second status byte (esptool <c>FatalError.WithResult</c>, serial-protocol.rst
/// "ROM Loader Errors"). Values not listed are kept as they are; <see cref="RomErrors.Describe"/> names them.
/// </summary>
public enum RomErrorCode : byte
{
    None = 0x00,
    InvalidMessage = 0x05,
    FailedToAct = 0x06,
    BadChecksum = 0x07,
    FlashWriteError = 0x08,
    FlashReadError = 0x09,
    ReadLengthError = 0x0A,
    DeflateError = 0x0B,
    NotImplemented = 0xFF,
}

/// <summary>Names for ROM error codes, with a fallback for unknown ones.</summary>
public static class RomErrors
{
    /// <summary>A human-readable name for <paramref name="code"/>, "other (0xNN)" when unknown.</summary>
    public static string Describe(byte code) => (RomErrorCode)code switch
    {
        RomErrorCode.None => "no error",
        RomErrorCode.InvalidMessage => "received message invalid",
        RomErrorCode.FailedToAct => "failed to act",
        RomErrorCode.BadChecksum => "bad checksum",
        RomErrorCode.FlashWriteError => "flash write error",
        RomErrorCode.FlashReadError => "flash read error",
        RomErrorCode.ReadLengthError => "read length error",
        RomErrorCode.DeflateError => "deflate error",
        RomErrorCode.NotImplemented => "not implemented",
        _ when code >= 0xC0 && code <= 0xCB => $"stub error (0x{code:X2})",
        _ => $"other (0x{code:X2})",
    };
}

/// <summary>A decoded response packet (direction 0x01; esp32-rom-protocol.md §2).</summary>
/// <param name="Command">The command id being answered.</param>
/// <param name="Value">The 32-bit value field (READ_REG result, SYNC tag).</param>
/// <param name="Data">The data field: optional payload, then the status bytes.</param>
public readonly record struct RomResponse(byte Command, uint Value, byte[] Data)
{
    /// <summary>Parses a SLIP-decoded frame; false when it is not a well-formed response.</summary>
    public static bool TryParse(ReadOnlySpan<byte> frame, out RomResponse response)
    {
        response = default;
        if (frame.Length < 8 || frame[0] != 0x01)
            return false;
        var size = BinaryPrimitives.ReadUInt16LittleEndian(frame[2..]);
        if (frame.Length < 8 + size)
            return false;
        response = new RomResponse(
            frame[1], BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]), frame.Slice(8, size).ToArray());
        return true;
    }

    /// <summary>
    /// The status after a payload of <paramref name="payloadLength"/> bytes. The ESP32 ROM sends 4 status bytes,
    /// the stub 2; both start with (status, error), so they are read generically (esptool <c>check_command</c>).
    /// </summary>
    public bool TryGetStatus(int payloadLength, out bool failed, out byte error)
    {
        failed = true;
        error = 0;
        if (Data.Length < payloadLength + 2)
            return false;
        failed = Data[payloadLength] != 0;
        error = Data[payloadLength + 1];
        return true;
    }

    /// <summary>
    /// True when this is the "unsupported command" answer to a request with another id: a different op whose
    /// first status bytes are (non-zero, 0x05) (esptool <c>command()</c>, esptool-js <c>readPacket</c>).
    /// </summary>
    public bool IsUnsupportedAnswerTo(RomCommand request) =>
        Command != (byte)request && Data.Length >= 2 && Data[0] != 0 && Data[1] == (byte)RomErrorCode.InvalidMessage;
}

/// <summary>Request encoding and payload builders. No I/O: everything returns bytes.</summary>
public static class RomPackets
{
    /// <summary>The seed of the data checksum (esptool <c>ESP_CHECKSUM_MAGIC</c>).</summary>
    public const byte ChecksumSeed = 0xEF;

    /// <summary>ROM flash block size (esptool <c>FLASH_WRITE_SIZE</c>).</summary>
    public const int FlashBlockSize = 0x400;

    /// <summary>XOR of <paramref name="data"/> seeded with 0xEF (esptool <c>ESPLoader.checksum</c>).</summary>
    public static byte Checksum(ReadOnlySpan<byte> data)
    {
        byte state = ChecksumSeed;
        foreach (var b in data)
            state ^= b;
        return state;
    }

    /// <summary>An unframed request: direction 0, command, size, checksum, data.</summary>
    public static byte[] Request(RomCommand command, ReadOnlySpan<byte> data, uint checksum = 0)
    {
        var packet = new byte[8 + data.Length];
        packet[0] = 0x00;
        packet[1] = (byte)command;
        BinaryPrimitives.WriteUInt16LittleEndian(packet.AsSpan(2), checked((ushort)data.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(4), checksum);
        data.CopyTo(packet.AsSpan(8));
        return packet;
    }

    /// <summary>Little-endian u32 words.</summary>
    public static byte[] Words(params uint[] words)
    {
        var data = new byte[words.Length * 4];
        for (var i = 0; i < words.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(i * 4), words[i]);
        return data;
    }

    /// <summary>SYNC: 07 07 12 20 then 32 × 0x55.</summary>
    public static byte[] SyncPayload()
    {
        var data = new byte[36];
        data[0] = 0x07;
        data[1] = 0x07;
        data[2] = 0x12;
        data[3] = 0x20;
        data.AsSpan(4).Fill(0x55);
        return data;
    }

    /// <summary>
    /// A *_DATA request: (len, seq, 0, 0) then the block; the checksum covers the block only
    /// (esp32-rom-protocol.md §2, "Checksum").
    /// </summary>
    public static byte[] DataRequest(RomCommand command, uint sequence, ReadOnlySpan<byte> block)
    {
        var data = new byte[16 + block.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)block.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), sequence);
        block.CopyTo(data.AsSpan(16));
        return Request(command, data, Checksum(block));
    }

    /// <summary>
    /// SPI_SET_PARAMS for a flash of <paramref name="totalSize"/> bytes (esptool <c>flash_set_parameters</c>).
    /// </summary>
    public static byte[] SpiSetParamsPayload(uint totalSize) => Words(0, totalSize, 0x10000, 0x1000, 0x100, 0xFFFF);

    /// <summary>SPI_ATTACH: pins word, plus the 4 legacy bytes the ROM (not the stub) expects.</summary>
    public static byte[] SpiAttachPayload(uint pins, bool rom) => rom ? Words(pins, 0) : Words(pins);
}

/// <summary>Per-command time limits, as esptool computes them (loader.py constants, <c>timeout_per_mb</c>).</summary>
public static class RomTimeouts
{
    /// <summary>esptool <c>DEFAULT_TIMEOUT</c>.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(3);

    /// <summary>SYNC waits 100 ms per try (esptool <c>SYNC_TIMEOUT</c>).</summary>
    public static readonly TimeSpan Sync = TimeSpan.FromMilliseconds(100);

    /// <summary>Flash erase at FLASH_BEGIN: 30 s per MB, at least 3 s.</summary>
    public static TimeSpan Erase(long bytes) => PerMegabyte(30, bytes);

    /// <summary>Write (with erase) of a data block: 40 s per MB of uncompressed data, at least 3 s.</summary>
    public static TimeSpan EraseWrite(long bytes) => PerMegabyte(40, bytes);

    /// <summary>SPI_FLASH_MD5: 8 s per MB, at least 3 s.</summary>
    public static TimeSpan Md5(long bytes) => PerMegabyte(8, bytes);

    private static TimeSpan PerMegabyte(double secondsPerMb, long bytes)
    {
        var seconds = secondsPerMb * (bytes / 1e6);
        return seconds < Default.TotalSeconds ? Default : TimeSpan.FromSeconds(seconds);
    }
}
