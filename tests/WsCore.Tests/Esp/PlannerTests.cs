using System.Security.Cryptography;
using WsCore.Flashing;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

public class FlashPlannerTests
{
    [Fact]
    public void Create_BuildDir_PatchesBootloaderFromFlasherArgs_AndSortsRegions()
    {
        using var fw = new FirmwareFixture();
        var plan = FlashPlanner.Create(new FlashRequest { Firmware = fw.Dir, Settings = new DeviceSettings("n", "password1") });
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
        var plan = FlashPlanner.Create(new FlashRequest { Firmware = fw.Dir, Settings = new DeviceSettings("n", "password1") });
        var nvs = plan.Regions.Single(r => r.Name == "nvs");
        Assert.Equal(0xA000u, nvs.Offset);
        Assert.Equal(0x4000, nvs.Data.Length);
    }

    [Fact]
    public void Create_FlashSizeTooSmall_RefusedNamingFlashSize()
    {
        using var fw = new FirmwareFixture(appSize: 300 * 1024);
        var e = Assert.Throws<WsCoreException>(() => FlashPlanner.Create(new FlashRequest
        {
            Images = [(0x100000u - 0x1000, Path.Combine(fw.Dir, "app.bin"))],
            FlashSize = "1MB",
        }));
        Assert.Equal(FailureKind.InvalidInput, e.Kind);
        Assert.StartsWith("--image:", e.Message);
    }

    [Fact]
    public void Merge_FillsGapsWithFf_FromAddressZero()
    {
        var plan = new FlashPlan([new("a", 0x10, [1, 2]), new("b", 0x20, [3])], 4 * 1024 * 1024, null, null, null);
        var merged = plan.Merge();
        Assert.Equal(0x21, merged.Length);
        Assert.Equal(0xFF, merged[0]);
        Assert.Equal(new byte[] { 1, 2, 0xFF }, merged[0x10..0x13]);
        Assert.Equal(3, merged[0x20]);
    }
}
