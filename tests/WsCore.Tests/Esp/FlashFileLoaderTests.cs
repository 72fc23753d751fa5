using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

/// <summary>
/// FlashFileLoader: what a request names on disk, read and handed to the planner; every file fault on its field.
/// (<see cref="FlashPlannerTests"/> covers build directories end to end.)
/// </summary>
public sealed class FlashFileLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wsctl-loader-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] data)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
        return path;
    }

    [Fact]
    public void Plan_ALoneAppFile_GoesToTheDefaultAppOffset()
    {
        var app = FirmwareFixture.BuildApp(16 * 1024);
        var plan = FlashFileLoader.Plan(new FlashRequest { Firmware = Write("app.bin", app) });
        var region = Assert.Single(plan.Regions);
        Assert.Equal(("app", FlashPlanner.DefaultAppOffset, true), (region.Name, region.Offset, region.IsImage));
        Assert.Equal(app, region.Data);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("empty")]
    public void Plan_AnImageMissingOrEmpty_RefusedOnTheImagesField(string fault)
    {
        var path = fault == "empty" ? Write("data.bin", []) : Path.Combine(_dir, "nowhere.bin");
        var e = Assert.Throws<WsCoreException>(() =>
            FlashFileLoader.Plan(new FlashRequest { Images = [(0x200000u, path)] }));
        Assert.Equal(InputField.Images, e.Field);
        Assert.Equal(fault == "empty" ? $"{path} is empty" : $"{path} does not exist", e.Message);
    }

    [Fact]
    public void Plan_ADirectoryWithoutFlasherArgs_RefusedOnTheFirmwareField()
    {
        var e = Assert.Throws<WsCoreException>(() => FlashFileLoader.Plan(new FlashRequest { Firmware = _dir }));
        Assert.Equal(InputField.Firmware, e.Field);
        Assert.Contains("has no flasher_args.json", e.Message);
    }

    [Fact]
    public void Plan_ABadFlashModeAndAMissingFile_TheModeIsReportedFirst()
    {
        var e = Assert.Throws<WsCoreException>(() => FlashFileLoader.Plan(new FlashRequest
        {
            Images = [(0x10000u, Path.Combine(_dir, "nowhere.bin"))],
            FlashMode = "fast",
        }));
        Assert.Equal(InputField.FlashMode, e.Field);
    }

    [Fact]
    public void Plan_ABuildWithoutATableImage_TheNvsPartitionFromItsPartitionsCsv()
    {
        Write("app.bin", FirmwareFixture.BuildApp(16 * 1024));
        Write("partitions.csv", "nvs, data, nvs, 0xC000, 0x4000,\nfactory, app, factory, 0x10000, 1M,\n"u8.ToArray());
        File.WriteAllText(Path.Combine(_dir, "flasher_args.json"),
            """{"flash_files": {"0x10000": "app.bin"}, "extra_esptool_args": {"chip": "esp32"}}""");
        var plan = FlashFileLoader.Plan(new FlashRequest
        {
            Firmware = _dir,
            Settings = new DeviceSettings("MyNet", "password123"),
        });
        var nvs = plan.Regions.Single(r => r.Name == "nvs");
        Assert.Equal((0xC000u, 0x4000), (nvs.Offset, nvs.Data.Length));
    }
}
