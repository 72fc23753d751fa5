using WsCore.Esp;
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

    private static byte[] RunOnEsp32(byte[] before, IReadOnlyList<FlashRegion> regions, Func<int, int>? viaProxy = null)
    {
        using var emulator = EspEmulator.Start("esp32", before);
        var port = viaProxy?.Invoke(emulator.Port) ?? emulator.Port;
        using (var transport = TcpSerialTransport.Connect("127.0.0.1", port))
            new EspFlasher(transport, NoReset).FlashAll(regions);
        return emulator.StopAndReadFlash();
    }

    [Esp32EmulatorFact]
    public void CredentialsOnly_OntoAChipWithAnApp_AppIntact()
    {
        var before = FlashExpectations.UsedChip(11)[..EspEmulator.FlashSize];
        var plan = FlashPlanner.Create(new FlashRequest { Settings = new DeviceSettings("MyNet", "password123") });
        var after = RunOnEsp32(before, plan.Regions);
        FlashExpectations.AssertSameFlash(FlashExpectations.ExpectedOnto(before, plan.Regions), after);
    }

    [Esp32EmulatorFact]
    public void FullBuild_OntoAUsedChip_OnlyTheRegionsSectorsChange()
    {
        using var fw = new FirmwareFixture(appSize: 40 * 1024 + 112);
        var before = FlashExpectations.UsedChip(12)[..EspEmulator.FlashSize];
        var plan = FlashPlanner.Create(new FlashRequest { Firmware = fw.Dir, Settings = new DeviceSettings("MyNet", "password123") });
        var after = RunOnEsp32(before, plan.Regions);
        FlashExpectations.AssertSameFlash(FlashExpectations.ExpectedOnto(before, plan.Regions), after);
    }

    [Esp32EmulatorFact]
    public void AppFollowedByADataPartition_DataIntact()
    {
        var before = FlashExpectations.UsedChip(13)[..EspEmulator.FlashSize];
        var regions = new[] { new FlashRegion("app", 0x10000, FirmwareFixture.BuildApp(0x20000 - 0x10000 - 0x2000 - 80)) };
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
            var after = RunOnEsp32(before, regions, port => (proxy = new ReplyDroppingProxy("127.0.0.1", port, op: 0x11, which: 2)).Port);
            Assert.True(proxy!.Dropped);
            FlashExpectations.AssertSameFlash(FlashExpectations.ExpectedOnto(before, regions), after);
        }
        finally
        {
            proxy?.Dispose();
        }
    }
}
