using WsCore.Flashing;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

/// <summary>NvsPlacement: the partition table being written, else the build's partitions.csv, else 0x9000.</summary>
public class NvsPlacementTests
{
    private static readonly Dictionary<FlashRegion, InputField> NoFields = new();

    private const string Csv = """
        # Name,   Type, SubType, Offset,  Size
        nvs,      data, nvs,     0xB000,  0x5000,
        factory,  app,  factory, 0x10000, 1M,
        """;

    [Fact]
    public void Find_TheTableBeingWritten_FirstThenTheCsv_ThenTheDefault()
    {
        var table = new FlashRegion("partition-table.bin", 0x8000, FirmwareFixture.BuildPartitionTable(0xA000, 0x4000));
        var csv = new PartitionsCsv("partitions.csv", Csv);
        var fromTable = NvsPlacement.Find(
            [table], new Dictionary<FlashRegion, InputField> { [table] = InputField.Firmware }, csv);
        Assert.Equal((0xA000u, 0x4000u, ("partition-table.bin", InputField.Firmware)),
            (fromTable.Offset, fromTable.Size, fromTable.Table!.Value));
        var fromCsv = NvsPlacement.Find([], NoFields, csv);
        Assert.Equal((0xB000u, 0x5000u, ("partitions.csv", InputField.Firmware)),
            (fromCsv.Offset, fromCsv.Size, fromCsv.Table!.Value));
        var fallback = NvsPlacement.Find([], NoFields, null);
        Assert.Equal((NvsPlacement.DefaultOffset, (uint)NvsPlacement.DefaultSize), (fallback.Offset, fallback.Size));
        Assert.Null(fallback.Table);
    }

    [Fact]
    public void Find_ATableAtAnotherOffset_RecognisedByItsMagic_BlamedOnTheImagesWhenUnattributed()
    {
        var table = new FlashRegion("table.bin", 0xC000, FirmwareFixture.BuildPartitionTable(0xA000, 0x4000));
        var found = NvsPlacement.Find([table], NoFields, null);
        Assert.Equal(
            (0xA000u, 0x4000u, ("table.bin", InputField.Images)), (found.Offset, found.Size, found.Table!.Value));
    }

    [Fact]
    public void Region_TheSettingsImageWhereTheTablePutsIt_MarkedSecret()
    {
        var settings = new DeviceSettings("MyNet", "password123");
        var region = NvsPlacement.Region(settings, [], NoFields, new PartitionsCsv("partitions.csv", Csv));
        Assert.Equal(("nvs", 0xB000u, true, false), (region.Name, region.Offset, region.Secret, region.IsImage));
        Assert.Equal(settings.BuildNvsImage(0x5000), region.Data);
    }

    [Fact]
    public void Region_APartitionTooSmall_BlamedOnWhereTheTableCameFrom()
    {
        var csv = new PartitionsCsv("partitions.csv", "nvs, data, nvs, 0x9000, 0x2000,\n");
        var e = Assert.Throws<WsCoreException>(() =>
            NvsPlacement.Region(new DeviceSettings("MyNet", "password123"), [], NoFields, csv));
        Assert.Equal(InputField.Firmware, e.Field);
        Assert.StartsWith("the nvs partition (0x2000 bytes at 0x9000, from partitions.csv) cannot hold the settings",
            e.Message);
    }
}
