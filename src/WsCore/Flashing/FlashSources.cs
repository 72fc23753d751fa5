using WsCore.Nvs;

namespace WsCore.Flashing;

/// <summary>
/// Everything a plan is made from, read and resolved by the caller (the files' bytes, the build's description): what
/// <see cref="FlashPlanner.Create"/> turns into a <see cref="FlashPlan"/> without any I/O.
/// </summary>
public sealed record FlashSources
{
    /// <summary>The chip and flash parameters (<see cref="FlashParameters.Resolve"/>).</summary>
    public required FlashParameters Parameters { get; init; }

    /// <summary>The files to write, in the order they were named.</summary>
    public IReadOnlyList<FlashSource> Files { get; init; } = [];

    /// <summary>The build's flasher_args.json, or null when no build directory was given.</summary>
    public FlasherArgs? Build { get; init; }

    /// <summary>The build's partitions.csv, where the NVS partition is looked up when no table is written.</summary>
    public PartitionsCsv? BuildPartitions { get; init; }

    /// <summary>Settings to write as the NVS partition, or null for none.</summary>
    public DeviceSettings? Settings { get; init; }

    /// <summary>Write the bootloader and app even when their image headers are not well formed.</summary>
    public bool Force { get; init; }
}
