namespace WsCore.Nvs;

/// <summary>
/// The CRC-32 NVS uses: reflected polynomial 0xEDB88320 with the register starting at 0 and a final inversion,
/// i.e. zlib.crc32(data, 0xFFFFFFFF) or ESP-IDF's esp_rom_crc32_le(0xFFFFFFFF, ...). This is NOT the standard
/// CRC-32 (which starts at 0xFFFFFFFF); docs/esp32-rom-protocol.md §11.
/// </summary>
public static class NvsCrc
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>The NVS CRC of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0;
        foreach (var b in data)
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        return table;
    }
}
