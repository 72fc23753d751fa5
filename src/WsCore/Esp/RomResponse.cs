using System.Buffers.Binary;

namespace WsCore.Esp;

/// <summary>A decoded response packet (direction 0x01; docs/esp32-rom-protocol.md §2).</summary>
/// <param name="Command">The command id being answered.</param>
/// <param name="Value">The 32-bit value field (READ_REG result, SYNC tag).</param>
/// <param name="Data">The data field: optional payload, then the status bytes.</param>
public readonly record struct RomResponse(byte Command, uint Value, byte[] Data)
{
    /// <summary>
    /// The bytes an answer to <paramref name="command"/> carries before its status bytes, whose data field is
    /// <paramref name="dataLength"/> bytes long (docs/esp32-rom-protocol.md §3): SPI_FLASH_MD5's 32 ASCII hex
    /// characters (the ROM's form; the stub would send 16 raw bytes); READ_FLASH_SLOW's 64-byte buffer;
    /// GET_SECURITY_INFO's 20 bytes (S3, C3 and later) or 12 (S2), told apart by the length as esptool tells them
    /// apart by trying 20 first; else none. An answer too short for its payload has its status first, as esptool's
    /// <c>check_command</c> reads it.
    /// </summary>
    public static int PayloadLength(RomCommand command, int dataLength)
    {
        var payload = command switch
        {
            RomCommand.SpiFlashMd5 => 32,
            RomCommand.ReadFlashSlow => ReadFlashBlock,
            RomCommand.GetSecurityInfo => dataLength >= SecurityInfo.LongLength + 2
                ? SecurityInfo.LongLength
                : SecurityInfo.ShortLength,
            _ => 0,
        };
        return dataLength >= payload + 2 ? payload : 0;
    }

    /// <summary>The bytes one READ_FLASH_SLOW answer carries, whatever length was asked (at most this).</summary>
    public const int ReadFlashBlock = 64;

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
