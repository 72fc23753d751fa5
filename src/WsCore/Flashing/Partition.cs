namespace WsCore.Flashing;

/// <summary>One partition-table row (ESP-IDF's esp_partition_info_t, gen_esp32part.py).</summary>
/// <param name="Label">Its name, e.g. "nvs".</param>
/// <param name="Type">
/// 0x00 app, 0x01 data (<see cref="PartitionTable.AppType"/>, <see cref="PartitionTable.DataType"/>).
/// </param>
/// <param name="Subtype">Its subtype, e.g. <see cref="PartitionTable.NvsSubtype"/>.</param>
/// <param name="Offset">Where it starts in flash.</param>
/// <param name="Size">Its size in bytes.</param>
public sealed record Partition(string Label, byte Type, byte Subtype, uint Offset, uint Size);
