using System.Security.Cryptography;
using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Nvs;
using WsCore.Tests.Support;

namespace WsCore.Tests.Esp;

public class FlashPlannerTests
{
    [Fact]
    public void Create_BuildDir_PatchesBootloaderFromFlasherArgs_AndSortsRegions()
    {
        using var fw = new FirmwareFixture();
        var plan = FlashFileLoader.Plan(new FlashRequest
        {
            Firmware = fw.Dir,
            Settings = new DeviceSettings("n", "password1")
        });
        Assert.Equal([0x1000u, 0x8000u, 0x9000u, 0x10000u], plan.Regions.Select(r => r.Offset));
        var boot = plan.Regions[0].Data;
        Assert.Equal(2, boot[2]);       // dio
        Assert.Equal(0x20, boot[3]);    // 4MB, 40m (the fixture's header says 1MB)
        Assert.Equal(SHA256.HashData(boot.AsSpan(0, boot.Length - 32)), boot[^32..]);
        Assert.Equal("hard-reset", plan.After);
        Assert.Equal(4u * 1024 * 1024, plan.FlashSizeBytes);
    }

    [Fact]
    public void Create_PartitionTableMovesNvs_NvsFollowsIt()
    {
        using var fw = new FirmwareFixture(nvsOffset: 0xA000, nvsSize: 0x4000);
        var plan = FlashFileLoader.Plan(new FlashRequest
        {
            Firmware = fw.Dir,
            Settings = new DeviceSettings("n", "password1")
        });
        var nvs = plan.Regions.Single(r => r.Name == "nvs");
        Assert.Equal(0xA000u, nvs.Offset);
        Assert.Equal(0x4000, nvs.Data.Length);
    }

    /// <summary>The firmware's own partitions.csv (src/firmware), as gen_esp32part.py reads it.</summary>
    private static IReadOnlyList<Partition> FirmwarePartitions() =>
        PartitionTable.ParseCsv(File.ReadAllText(FirmwareSources.PartitionsCsvPath));

    [Fact]
    public void FirmwarePartitionsCsv_FourMbTwoOtaSlots_NvsWhereWsctlWritesIt()
    {
        var table = FirmwarePartitions();
        var nvs = PartitionTable.FindNvs(table);
        Assert.NotNull(nvs);
        Assert.Equal((NvsPlacement.DefaultOffset, (uint)NvsPlacement.DefaultSize), (nvs.Offset, nvs.Size));
        var ota = table.Where(p => p.Type == PartitionTable.AppType).ToList();
        Assert.Equal([PartitionTable.Ota0Subtype, (byte)(PartitionTable.Ota0Subtype + 1)], ota.Select(p => p.Subtype));
        Assert.All(ota, p => Assert.True(p.Size >= 1536 * 1024, $"{p.Label} holds {p.Size} bytes, less than 1.5 MB"));
        Assert.All(ota, p => Assert.Equal(0u, p.Offset % 0x10000)); // apps start on 64 KiB boundaries
        // A lone app .bin (wsctl flash --firmware app.bin) still lands on the first slot the bootloader starts.
        Assert.Equal(FlashPlanner.DefaultAppOffset, ota[0].Offset);
        var otadata = Assert.Single(
            table, p => p.Type == PartitionTable.DataType && p.Subtype == PartitionTable.OtaDataSubtype);
        Assert.Equal(0x2000u, otadata.Size);
        Assert.Single(table, p => p.Type == PartitionTable.DataType && p.Subtype == 0x01); // phy_init
        var sorted = table.OrderBy(p => p.Offset).ToList();
        Assert.True(
            sorted[0].Offset >= PartitionTable.DefaultOffset + 0x1000, "a partition overlaps the partition table");
        for (var i = 1; i < sorted.Count; i++)
            Assert.True(
                sorted[i].Offset >= sorted[i - 1].Offset + sorted[i - 1].Size,
                $"{sorted[i - 1].Label} overlaps {sorted[i].Label}");
        Assert.True(sorted[^1].Offset + sorted[^1].Size <= 4u * 1024 * 1024, "the table does not fit 4 MB");
        var defaults = FirmwareSources.Sdkconfig(FirmwareSources.SdkconfigDefaultsPath);
        Assert.Equal("y", defaults["CONFIG_ESPTOOLPY_FLASHSIZE_4MB"]);
        Assert.Equal("y", defaults["CONFIG_PARTITION_TABLE_CUSTOM"]);
        Assert.Equal("\"partitions.csv\"", defaults["CONFIG_PARTITION_TABLE_CUSTOM_FILENAME"]);
    }

    [Fact]
    public void Create_OtaBuildDir_WritesEveryFlasherArgsFileIncludingOtadata_NvsFromTheNewTable()
    {
        // A build of the firmware's OTA layout: flasher_args.json lists ota_data_initial.bin at otadata's offset
        // (and as "otadata"), the app at ota_0.
        var partitions = FirmwarePartitions();
        using var fw = new FirmwareFixture(partitions: partitions);
        var otadata = partitions.Single(p => p.Type == PartitionTable.DataType
            && p.Subtype == PartitionTable.OtaDataSubtype);
        var args = FlasherArgs.Parse(File.ReadAllText(Path.Combine(fw.Dir, "flasher_args.json")));
        Assert.Contains((otadata.Offset, "ota_data_initial.bin"), args.Files);

        var plan = FlashFileLoader.Plan(new FlashRequest
        {
            Firmware = fw.Dir,
            Settings = new DeviceSettings("n", "password1")
        });

        // Every file flasher_args.json lists, plus the NVS image, and nothing else.
        Assert.Equal(
            args.Files.Select(f => f.Offset).Append(NvsPlacement.DefaultOffset).Order(),
            plan.Regions.Select(r => r.Offset));
        var ota = plan.Regions.Single(r => r.Offset == otadata.Offset);
        Assert.Equal("ota_data_initial.bin", ota.Name);
        Assert.Equal(fw.OtaDataInitial, ota.Data);
        Assert.False(ota.IsImage); // data, not an ESP image: no header check
        Assert.Equal(fw.App, plan.Regions.Single(r => r.Offset == FlashPlanner.DefaultAppOffset).Data);
        // The NVS partition is found in the new table (0x9000, 0x6000), not assumed.
        var nvs = plan.Regions.Single(r => r.Name == "nvs");
        Assert.Equal(NvsPlacement.DefaultOffset, nvs.Offset);
        Assert.Equal(new DeviceSettings("n", "password1").BuildNvsImage(NvsPlacement.DefaultSize), nvs.Data);
        Assert.Equal(4u * 1024 * 1024, plan.FlashSizeBytes);
        Assert.True(plan.Regions.Max(r => r.End) <= plan.FlashSizeBytes);
    }

    [Fact]
    public void Create_OtaTableWithNvsElsewhere_NvsFollowsTheTable()
    {
        // The NVS offset comes from the table being written, whatever the layout around it.
        var moved = FirmwarePartitions()
            .Select(p => p.Label == "nvs" ? p with { Offset = 0xA000, Size = 0x4000 } : p)
            .ToList();
        using var fw = new FirmwareFixture(partitions: moved);
        var plan = FlashFileLoader.Plan(new FlashRequest
        {
            Firmware = fw.Dir,
            Settings = new DeviceSettings("n", "password1")
        });
        var nvs = plan.Regions.Single(r => r.Name == "nvs");
        Assert.Equal((0xA000u, 0x4000), (nvs.Offset, nvs.Data.Length));
    }

    [Fact]
    public void Create_TableWithATooSmallNvs_RefusedAsTheTablesSourceNotTheSsid()
    {
        // The settings are fine; the partition table they go into is not (NVS needs at least 0x3000 bytes).
        using var fw = new FirmwareFixture(nvsSize: 0x1000);
        var settings = new DeviceSettings("n", "password1");
        var fromBuild = Assert.Throws<WsCoreException>(() =>
            FlashFileLoader.Plan(new FlashRequest { Firmware = fw.Dir, Settings = settings }));
        Assert.Equal(InputField.Firmware, fromBuild.Field);
        Assert.Contains("0x1000 bytes at 0x9000, from partition-table.bin", fromBuild.Message);

        var table = Path.Combine(fw.Dir, "partition_table", "partition-table.bin");
        var fromImage = Assert.Throws<WsCoreException>(() =>
            FlashFileLoader.Plan(new FlashRequest { Images = [(0x8000u, table)], Settings = settings }));
        Assert.Equal(InputField.Images, fromImage.Field);
    }

    [Fact]
    public void Create_FlashSizeTooSmall_RefusedNamingFlashSize()
    {
        using var fw = new FirmwareFixture(appSize: 300 * 1024);
        var e = Assert.Throws<WsCoreException>(() => FlashFileLoader.Plan(new FlashRequest
        {
            Images = [(0x100000u - 0x1000, Path.Combine(fw.Dir, "app.bin"))],
            FlashSize = "1MB",
        }));
        Assert.Equal(FailureKind.InvalidInput, e.Kind);
        Assert.Equal(InputField.Images, e.Field);
        Assert.Equal(InputField.FlashSize, e.HintField);
    }

    [Fact]
    public void Merge_FillsGapsWithFf_FromAddressZero()
    {
        var plan = new FlashPlan([new("a", 0x10, [1, 2]), new("b", 0x20, [3])], 4 * 1024 * 1024);
        var merged = plan.Merge();
        Assert.Equal(0x21, merged.Length);
        Assert.Equal(0xFF, merged[0]);
        Assert.Equal(new byte[] { 1, 2, 0xFF }, merged[0x10..0x13]);
        Assert.Equal(3, merged[0x20]);
    }
}
