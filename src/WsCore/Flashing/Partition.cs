namespace WsCore.Flashing;

/// <summary>One partition-table row (ESP-IDF's esp_partition_info_t, gen_esp32part.py).</summary>
/// <param name="Label">Its name, e.g. "nvs".</param>
/// <param name="Type">
/// 0x00 app, 0x01 data (<see cref="PartitionTable.AppType"/>, <see cref="PartitionTable.DataType"/>).
/// </param>
/// <param name="Subtype">Its subtype, e.g. <see cref="PartitionTable.NvsSubtype"/>.</param>
/// <param name="Offset">Where it starts in flash.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Flags">Bit 0 encrypted, bit 1 read-only (gen_esp32part.py's flags).</param>
public sealed record Partition(string Label, byte Type, byte Subtype, uint Offset, uint Size, uint Flags = 0)
{
    /// <summary>Its type as partitions.csv spells it: app, data, or the number.</summary>
    public string TypeName => PartitionTable.TypeName(Type);

    /// <summary>Its subtype as partitions.csv spells it: factory, ota_0, nvs, phy, …, or the number.</summary>
    public string SubtypeName => PartitionTable.SubtypeName(Type, Subtype);

    /// <summary>The flags as partitions.csv spells them: encrypted, readonly, joined by ':'.</summary>
    public string FlagNames => string.Join(':', new[] { (1u, "encrypted"), (2u, "readonly") }
        .Where(f => (Flags & f.Item1) != 0).Select(f => f.Item2));

    /// <summary>One past its last byte.</summary>
    public long End => (long)Offset + Size;
}
