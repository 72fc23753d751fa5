using WsCore.Nvs;

namespace WsCore.Flashing;

/// <summary>
/// Where the NVS partition goes and its image: the data/nvs partition of the partition table being written (binary, at
/// 0x8000), else of the build's partitions.csv, else ESP-IDF's default 0x9000/0x6000 (docs/esp32-rom-protocol.md §9).
/// Pure: no I/O.
/// </summary>
public static class NvsPlacement
{
    /// <summary>Where the NVS partition is when no partition table says otherwise (partitions_singleapp.csv).</summary>
    public const uint DefaultOffset = 0x9000;

    /// <summary>The NVS partition's size when no partition table says otherwise.</summary>
    public const int DefaultSize = 0x6000;

    /// <summary>
    /// The NVS region holding <paramref name="settings"/> (marked secret: it holds the Wi-Fi password).
    /// </summary>
    /// <param name="settings">What to write, already validated.</param>
    /// <param name="regions">The other regions of the run: a partition table among them decides.</param>
    /// <param name="fields">Which request field each region came from.</param>
    /// <param name="buildPartitions">The build's partitions.csv, or null.</param>
    /// <exception cref="WsCoreException">
    /// InvalidInput of the field the partition table came from: its NVS partition cannot hold the settings.
    /// </exception>
    public static FlashRegion Region(
        DeviceSettings settings,
        IReadOnlyList<FlashRegion> regions,
        IReadOnlyDictionary<FlashRegion, InputField> fields,
        PartitionsCsv? buildPartitions)
    {
        var (offset, size, table) = Find(regions, fields, buildPartitions);
        try
        {
            return new FlashRegion("nvs", offset, settings.BuildNvsImage((int)size)) { Secret = true };
        }
        catch (ArgumentException e)
        {
            // The partition table's NVS partition is unusable (the settings themselves were validated before): the
            // fault is the table's, so it is reported against where the table came from.
            var where = table is null ? "" : $", from {table.Value.Source}";
            throw WsCoreException.Invalid(table?.Field ?? InputField.Firmware,
                $"the nvs partition (0x{size:X} bytes at 0x{offset:X}{where}) cannot hold the settings: " + e.Message);
        }
    }

    /// <summary>
    /// The NVS partition from the partition table being written (binary at 0x8000) or the build's partitions.csv;
    /// else 0x9000/0x6000.
    /// </summary>
    /// <returns>The partition, and the table it came from (its name and request field), if any.</returns>
    public static (uint Offset, uint Size, (string Source, InputField Field)? Table) Find(
        IReadOnlyList<FlashRegion> regions,
        IReadOnlyDictionary<FlashRegion, InputField> fields,
        PartitionsCsv? buildPartitions)
    {
        var table = regions.FirstOrDefault(r => r.Offset == PartitionTable.DefaultOffset || r.Data is [0xAA, 0x50, ..]);
        if (table is not null && PartitionTable.FindNvs(PartitionTable.ParseBinary(table.Data)) is { } inTable)
            return (inTable.Offset, inTable.Size, (table.Name, fields.GetValueOrDefault(table, InputField.Images)));
        if (buildPartitions is not null
            && PartitionTable.FindNvs(PartitionTable.ParseCsv(buildPartitions.Text)) is { } inCsv)
            return (inCsv.Offset, inCsv.Size, (buildPartitions.Name, InputField.Firmware));
        return (DefaultOffset, DefaultSize, null);
    }
}
