using System.Buffers.Binary;

namespace WsCore.Esp;

/// <summary>
/// Request encoding and payload builders (docs/esp32-rom-protocol.md §2 and §4). No I/O: everything returns bytes.
/// </summary>
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
    /// (docs/esp32-rom-protocol.md §2).
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

    /// <summary>
    /// SPI_ATTACH: the pins word (0: the default SPI flash pins), plus the 4 bytes the ROM, unlike the stub, expects.
    /// </summary>
    public static byte[] SpiAttachPayload(uint pins) => Words(pins, 0);
}
