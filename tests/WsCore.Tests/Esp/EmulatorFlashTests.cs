using WsCore.Chips;
using WsCore.Esp;
using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

/// <summary>
/// EspFlasher against the real ESP32 mask ROM in Espressif's QEMU (<see cref="EspEmulator"/>): what the simulator
/// tests assert, checked where it matters, on the chip's own loader. Its UART runs at about 60 kbit/s, so the
/// images are small. Skipped with the reason where QEMU is absent.
/// </summary>
[Collection(EmulatorCollection.Name)]
public class EmulatorFlashTests
{
    private static FlashSessionOptions NoReset => new() { Before = BeforeReset.NoReset, After = AfterReset.NoReset };

    private static byte[] RunOnEsp32(
        byte[] before, IReadOnlyList<FlashRegion> regions, Func<int, int>? viaProxy = null) =>
        RunOn("esp32", before, regions, NoReset, viaProxy).Flash;

    private static (byte[] Flash, EspFlasher Flasher) RunOn(
        string chip,
        byte[] before,
        IReadOnlyList<FlashRegion> regions,
        FlashSessionOptions options,
        Func<int, int>? viaProxy = null)
    {
        using var emulator = EspEmulator.Start(chip, before);
        var port = viaProxy?.Invoke(emulator.Port) ?? emulator.Port;
        EspFlasher flasher;
        using (var transport = TcpSerialTransport.Connect("127.0.0.1", port))
        {
            flasher = new EspFlasher(transport, options);
            flasher.FlashAll(regions);
        }
        return (emulator.StopAndReadFlash(), flasher);
    }

    [Esp32EmulatorFact]
    public void FlashSizeDetect_ReadsTheEmulatedFlashId()
    {
        using var fw = new FirmwareFixture(appSize: 16 * 1024, flashSize: "detect");
        var plan = FlashFileLoader.Plan(new FlashRequest { Firmware = fw.Dir });
        var (_, flasher) = RunOn(
            "esp32",
            FlashExpectations.UsedChip(15)[..EspEmulator.FlashSize],
            plan.Regions,
            NoReset with { FlashSize = null });
        Assert.Equal("4MB", flasher.DetectedFlashSize);
    }

    [Esp32C3EmulatorFact]
    public void C3_FullBuildAndCredentials_ThroughTheRealC3Rom_OnlyTheRegionsChange()
    {
        using var fw = new FirmwareFixture(appSize: 40 * 1024 + 112, chip: KnownChips.Esp32C3);
        var before = FlashExpectations.UsedChip(16)[..EspEmulator.FlashSize];
        var plan = FlashFileLoader.Plan(new FlashRequest
        {
            Firmware = fw.Dir,
            Settings = new DeviceSettings("MyNet", "password123")
        });
        Assert.Equal(0u, plan.Regions[0].Offset); // the C3's bootloader lives at 0x0
        var (after, flasher) = RunOn("esp32c3", before, plan.Regions, NoReset);
        Assert.Equal(KnownChips.Esp32C3, flasher.Chip);
        FlashExpectations.AssertSameFlash(FlashExpectations.ExpectedOnto(before, plan.Regions), after);
    }

    [Esp32EmulatorFact]
    public void CredentialsOnly_OntoAChipWithAnApp_AppIntact()
    {
        var before = FlashExpectations.UsedChip(11)[..EspEmulator.FlashSize];
        var plan = FlashFileLoader.Plan(new FlashRequest { Settings = new DeviceSettings("MyNet", "password123") });
        var after = RunOnEsp32(before, plan.Regions);
        FlashExpectations.AssertSameFlash(FlashExpectations.ExpectedOnto(before, plan.Regions), after);
    }

    [Esp32EmulatorFact]
    public void FullBuild_OntoAUsedChip_OnlyTheRegionsSectorsChange()
    {
        using var fw = new FirmwareFixture(appSize: 40 * 1024 + 112);
        var before = FlashExpectations.UsedChip(12)[..EspEmulator.FlashSize];
        var plan = FlashFileLoader.Plan(new FlashRequest
        {
            Firmware = fw.Dir,
            Settings = new DeviceSettings("MyNet", "password123")
        });
        var after = RunOnEsp32(before, plan.Regions);
        FlashExpectations.AssertSameFlash(FlashExpectations.ExpectedOnto(before, plan.Regions), after);
    }

    [Esp32EmulatorFact]
    public void AppFollowedByADataPartition_DataIntact()
    {
        var before = FlashExpectations.UsedChip(13)[..EspEmulator.FlashSize];
        var regions = new[] {
            new FlashRegion("app", 0x10000, FirmwareFixture.BuildApp(0x20000 - 0x10000 - 0x2000 - 80)) };
        var after = RunOnEsp32(before, regions);
        FlashExpectations.AssertSameFlash(FlashExpectations.ExpectedOnto(before, regions), after);
    }

    [Esp32EmulatorFact]
    public void LostAnswerMidDeflate_RegionEndsRight()
    {
        var before = FlashExpectations.UsedChip(14)[..EspEmulator.FlashSize];
        var regions = new[] { new FlashRegion("app", 0x10000, FirmwareFixture.BuildApp(48 * 1024)) };
        ReplyDroppingProxy? proxy = null;
        try
        {
            var after = RunOnEsp32(
                before, regions, port => (proxy = new ReplyDroppingProxy("127.0.0.1", port, op: 0x11, which: 2)).Port);
            Assert.True(proxy!.Dropped);
            FlashExpectations.AssertSameFlash(FlashExpectations.ExpectedOnto(before, regions), after);
        }
        finally
        {
            proxy?.Dispose();
        }
    }
}
