using System.Buffers.Binary;
using System.Text;

namespace WsCore.Flashing;

/// <summary>
/// ESP-IDF partition tables: the binary form flashed at 0x8000 (32-byte entries starting AA 50; gen_esp32part.py)
/// and the CSV form. Only what wsctl needs: finding the NVS partition (and, for the tests, reading the firmware's
/// own partitions.csv). docs/esp32-rom-protocol.md §9.
/// </summary>
public static class PartitionTable
{
    /// <summary>Type "app".</summary>
    public const byte AppType = 0x00;
    /// <summary>Type "data".</summary>
    public const byte DataType = 0x01;
    /// <summary>Subtype "nvs" of type data.</summary>
    public const byte NvsSubtype = 0x02;
    /// <summary>Subtype "ota" of type data: the OTA selection (otadata, 0x2000 bytes).</summary>
    public const byte OtaDataSubtype = 0x00;
    /// <summary>Subtype "ota_0" of type app; ota_N is this + N (N up to 15).</summary>
    public const byte Ota0Subtype = 0x10;
    /// <summary>The default table offset (CONFIG_PARTITION_TABLE_OFFSET).</summary>
    public const uint DefaultOffset = 0x8000;

    /// <summary>
    /// Parses a binary table; stops at the first entry without the AA 50 magic (0xFF end, EB EB MD5 entry).
    /// </summary>
    public static IReadOnlyList<Partition> ParseBinary(ReadOnlySpan<byte> table)
    {
        var list = new List<Partition>();
        for (var at = 0; at + 32 <= table.Length; at += 32)
        {
            var entry = table.Slice(at, 32);
            if (entry[0] != 0xAA || entry[1] != 0x50)
                break;
            var label = Encoding.ASCII.GetString(entry.Slice(12, 16)).TrimEnd('\0');
            list.Add(new Partition(
                label,
                entry[2],
                entry[3],
                BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]),
                BinaryPrimitives.ReadUInt32LittleEndian(entry[8..])));
        }
        return list;
    }

    /// <summary>
    /// Parses a partitions.csv (name, type, subtype, offset, size, flags). Empty offsets are placed as
    /// gen_esp32part.py does: after the previous partition, apps aligned to 0x10000, data to 0x1000.
    /// </summary>
    public static IReadOnlyList<Partition> ParseCsv(string csv, uint tableOffset = DefaultOffset)
    {
        var list = new List<Partition>();
        var next = tableOffset + 0x1000;
        foreach (var raw in csv.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var cells = line.Split(',').Select(c => c.Trim()).ToArray();
            if (cells.Length < 5)
                continue;
            var type = cells[1] switch
            {
                "app" => AppType,
                "data" => DataType,
                var t => (byte)(FlasherArgs.ParseOffset(t) ?? 0xFF),
            };
            var subtype = (type, cells[2]) switch
            {
                (DataType, "nvs") => NvsSubtype,
                (DataType, "phy") => (byte)0x01,
                (DataType, "ota") => OtaDataSubtype,
                (AppType, "factory") => (byte)0x00,
                (AppType, "test") => (byte)0x20,
                (AppType, var ota) when ota.StartsWith("ota_", StringComparison.Ordinal)
                    && int.TryParse(
                        ota.AsSpan(4),
                        System.Globalization.NumberStyles.None,
                        System.Globalization.CultureInfo.InvariantCulture,
                        out var n)
                    && n is >= 0 and <= 15 => (byte)(Ota0Subtype + n),
                _ => (byte)(FlasherArgs.ParseOffset(cells[2]) ?? 0xFE),
            };
            var align = type == AppType ? 0x10000u : 0x1000u;
            var offset = cells[3].Length > 0
                ? FlasherArgs.ParseOffset(cells[3]) ?? 0
                : (next + align - 1) / align * align;
            var size = ParseSize(cells[4]) ?? 0;
            list.Add(new Partition(cells[0], type, subtype, offset, size));
            next = offset + size;
        }
        return list;
    }

    /// <summary>The first data/nvs partition, or null.</summary>
    public static Partition? FindNvs(IEnumerable<Partition> partitions) =>
        partitions.FirstOrDefault(p => p.Type == DataType && p.Subtype == NvsSubtype);

    private static uint? ParseSize(string text)
    {
        text = text.Trim();
        if (text.EndsWith('K') || text.EndsWith('k'))
            return FlasherArgs.ParseOffset(text[..^1]) * 1024;
        if (text.EndsWith('M') || text.EndsWith('m'))
            return FlasherArgs.ParseOffset(text[..^1]) * 1024 * 1024;
        return FlasherArgs.ParseOffset(text);
    }
}
