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

    /// <summary>The longest table: 0xC00 bytes (95 entries and the MD5 entry); the sector's rest is free.</summary>
    public const int MaxLength = 0xC00;

    /// <summary>Bytes per entry.</summary>
    public const int EntryLength = 32;

    /// <summary>
    /// Parses a binary table; stops at the first entry without the AA 50 magic (0xFF end, EB EB MD5 entry).
    /// </summary>
    public static IReadOnlyList<Partition> ParseBinary(ReadOnlySpan<byte> table) => ParseImage(table).Partitions;

    /// <summary>
    /// Parses a binary table with its MD5 entry (gen_esp32part.py's <c>to_binary</c>: the entries, then EB EB, 14
    /// bytes of FF and the MD5 of every entry before it; docs/esp32-rom-protocol.md §9).
    /// </summary>
    public static PartitionTableImage ParseImage(ReadOnlySpan<byte> table)
    {
        var list = new List<Partition>();
        var at = 0;
        for (; at + EntryLength <= table.Length; at += EntryLength)
        {
            var entry = table.Slice(at, EntryLength);
            if (entry[0] != 0xAA || entry[1] != 0x50)
                break;
            var label = Encoding.ASCII.GetString(entry.Slice(12, 16)).TrimEnd('\0');
            list.Add(new Partition(
                label,
                entry[2],
                entry[3],
                BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]),
                BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]),
                BinaryPrimitives.ReadUInt32LittleEndian(entry[28..])));
        }
        string? stored = null;
        var computed = Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(table[..at]));
        if (at + EntryLength <= table.Length && IsMd5Entry(table.Slice(at, EntryLength)))
            stored = Convert.ToHexStringLower(table.Slice(at + 16, 16));
        return new PartitionTableImage(list, stored, computed, stored is null ? at : at + EntryLength);
    }

    /// <summary>Whether <paramref name="entry"/> starts as the MD5 entry does: EB EB and 14 bytes of FF.</summary>
    private static bool IsMd5Entry(ReadOnlySpan<byte> entry) =>
        entry[0] == 0xEB && entry[1] == 0xEB && !entry.Slice(2, 14).ContainsAnyExcept((byte)0xFF);

    /// <summary>
    /// Whether <paramref name="table"/> (the first bytes of one) holds the whole table: the first entry that is not a
    /// partition (the MD5 entry, or the 0xFF after the last partition) is there, or the longest table is.
    /// </summary>
    public static bool IsComplete(ReadOnlySpan<byte> table)
    {
        for (var at = 0; at + EntryLength <= table.Length; at += EntryLength)
            if (table[at] != 0xAA || table[at + 1] != 0x50)
                return true;
        return table.Length >= MaxLength;
    }

    /// <summary>A type as partitions.csv spells it (gen_esp32part.py's TYPES), else its number.</summary>
    public static string TypeName(byte type) => type switch
    {
        AppType => "app",
        DataType => "data",
        0x02 => "bootloader",
        0x03 => "partition_table",
        _ => $"0x{type:x2}",
    };

    /// <summary>A subtype as partitions.csv spells it (gen_esp32part.py's SUBTYPES), else its number.</summary>
    public static string SubtypeName(byte type, byte subtype) => (type, subtype) switch
    {
        (AppType, 0x00) => "factory",
        (AppType, 0x20) => "test",
        (AppType, >= Ota0Subtype and < Ota0Subtype + 16) => $"ota_{subtype - Ota0Subtype}",
        (DataType, OtaDataSubtype) => "ota",
        (DataType, 0x01) => "phy",
        (DataType, NvsSubtype) => "nvs",
        (DataType, 0x03) => "coredump",
        (DataType, 0x04) => "nvs_keys",
        (DataType, 0x05) => "efuse",
        (DataType, 0x06) => "undefined",
        (DataType, 0x80) => "esphttpd",
        (DataType, 0x81) => "fat",
        (DataType, 0x82) => "spiffs",
        (DataType, 0x83) => "littlefs",
        _ => $"0x{subtype:x2}",
    };

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

    /// <summary>A size as partitions.csv writes one: 0x6000, 24576, 24K, 1M; null when it is none.</summary>
    public static uint? ParseSize(string text)
    {
        text = text.Trim();
        if (text.EndsWith('K') || text.EndsWith('k'))
            return FlasherArgs.ParseOffset(text[..^1]) * 1024;
        if (text.EndsWith('M') || text.EndsWith('m'))
            return FlasherArgs.ParseOffset(text[..^1]) * 1024 * 1024;
        return FlasherArgs.ParseOffset(text);
    }
}
