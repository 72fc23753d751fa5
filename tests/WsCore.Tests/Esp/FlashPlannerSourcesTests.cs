using WsCore.Chips;
using WsCore.Flashing;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

/// <summary>FlashPlanner.Create over bytes in memory: no file is read.</summary>
public class FlashPlannerSourcesTests
{
    private static FlashSources Sources(params FlashSource[] files) => new()
    {
        Parameters = FlashParameters.Resolve(KnownChips.Esp32, null, "dio", "4MB", "40m"),
        Files = files,
    };

    [Fact]
    public void Create_BootloaderAndApp_ImagesChecked_BootloaderPatched_AppUntouched()
    {
        var boot = FirmwareFixture.BuildImage(hashAppended: true);
        var app = FirmwareFixture.BuildApp(16 * 1024);
        var plan = FlashPlanner.Create(Sources(
            new FlashSource("app", 0x10000, "app.bin", InputField.Images, app),
            new FlashSource("bootloader.bin", 0x1000, "bootloader.bin", InputField.Images, boot)));
        Assert.Equal([0x1000u, 0x10000u], plan.Regions.Select(r => r.Offset));
        Assert.All(plan.Regions, r => Assert.True(r.IsImage));
        Assert.Equal(FirmwareImage.PatchFlashParams(boot, KnownChips.Esp32, "dio", "4MB", "40m"), plan.Regions[0].Data);
        Assert.NotEqual(boot, plan.Regions[0].Data);
        Assert.Same(app, plan.Regions[1].Data);
    }

    [Fact]
    public void Create_NotAnImageWhereOneMustBe_RefusedOnItsField_UnlessForced()
    {
        var junk = new FlashSource("app", 0x10000, "junk.bin", InputField.Firmware, new byte[4096]);
        var e = Assert.Throws<WsCoreException>(() => FlashPlanner.Create(Sources(junk)));
        Assert.Equal((InputField.Firmware, InputField.Force), (e.Field, e.HintField));
        Assert.StartsWith("junk.bin is not an ESP image for 0x10000: its first byte is 0x00", e.Message);
        Assert.Single(FlashPlanner.Create(Sources(junk) with { Force = true }).Regions);
    }

    [Fact]
    public void Create_DataElsewhere_NotCheckedAsAnImage()
    {
        var data = new FlashSource("spiffs.bin", 0x200000, "spiffs.bin", InputField.Images, new byte[4096]);
        Assert.False(FlashPlanner.Create(Sources(data)).Regions.Single().IsImage);
    }

    [Fact]
    public void Create_Settings_NvsRegionAddedInOrder_BuildsChipAndAfterCarried()
    {
        var build = new FlasherArgs(
            [], "dio", "detect", "40m", "esp32", "default-reset", "no-reset", AppOffset: 0x20000);
        var app = FirmwareFixture.BuildApp(16 * 1024);
        var plan = FlashPlanner.Create(new FlashSources
        {
            Parameters = FlashParameters.Resolve(KnownChips.Esp32, build, null, null, null),
            Files = [new FlashSource("app.bin", 0x20000, "build/app.bin", InputField.Firmware, app)],
            Build = build,
            Settings = new DeviceSettings("MyNet", "password123"),
        });
        Assert.Equal(["nvs", "app.bin"], plan.Regions.Select(r => r.Name));
        Assert.True(plan.Regions[1].IsImage); // the build's app offset is an image offset too
        Assert.Equal(("esp32", "no-reset", true), (plan.Chip, plan.After, plan.DetectFlashSize));
    }
}
