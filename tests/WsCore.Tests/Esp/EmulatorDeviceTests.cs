using WsCore.Chips;
using WsCore.Esp;
using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Tests.Support;

namespace WsCore.Tests.Esp;

/// <summary>
/// EspDevice against the real ESP32 and ESP32-C3 mask ROMs in Espressif's QEMU (<see cref="EspEmulator"/>): the
/// chip's information, a read of what <c>flash</c> wrote, an erase followed by a read. READ_FLASH_SLOW moves 64 bytes
/// a command at the emulator's slow UART, so the regions read are small. Skipped with the reason where QEMU is absent.
/// </summary>
[Collection(EmulatorCollection.Name)]
public class EmulatorDeviceTests
{
    private static FlashSessionOptions NoReset => new() { Before = BeforeReset.NoReset, After = AfterReset.NoReset };

    private static EspDevice Connect(TcpSerialTransport transport)
    {
        var device = new EspDevice(transport, NoReset);
        device.Connect();
        return device;
    }

    private static ChipDescriptor Chip(string id) => KnownChips.ById(id)!;

    [Esp32EmulatorFact]
    public void Esp32_Info_ReadOfWhatFlashWrote_EraseThenRead() => InfoReadErase("esp32");

    [Esp32C3EmulatorFact]
    public void Esp32C3_Info_ReadOfWhatFlashWrote_EraseThenRead() => InfoReadErase("esp32c3");

    /// <summary>
    /// The built wsctl over socket:// to the real ESP32 ROM: flash writes a build; device verify finds it there, device
    /// read brings back the app's first KiB, device erase clears a sector that read then shows as 0xFF.
    /// </summary>
    [Esp32EmulatorFact]
    public async Task Esp32_Cli_FlashThenVerifyReadEraseRead()
    {
        using var fw = new FirmwareFixture(appSize: 16 * 1024);
        var before = FlashExpectations.UsedChip(47)[..EspEmulator.FlashSize];
        using var emulator = EspEmulator.Start("esp32", before);
        var port = $"socket://127.0.0.1:{emulator.Port}";
        string[] Run(params string[] args) =>
            [.. args, "--port", port, "--before", "no-reset", "--after", "no-reset"];
        var timeout = TimeSpan.FromMinutes(3);
        var flash = await WsctlProcess.RunAsync(Run("flash", "--firmware", fw.Dir), timeout: timeout);
        Assert.True(flash.ExitCode == 0, flash.All);
        var verify = await WsctlProcess.RunAsync(Run("device", "verify", "--firmware", fw.Dir), timeout: timeout);
        Assert.True(verify.ExitCode == 0, verify.All);
        var file = Path.Combine(fw.Dir, "read.bin");
        var read = await WsctlProcess.RunAsync(Run("device", "read", "0x10000", "1K", "-o", file), timeout: timeout);
        Assert.True(read.ExitCode == 0, read.All);
        Assert.Equal(fw.App[..1024], await File.ReadAllBytesAsync(file));
        var erase = await WsctlProcess.RunAsync(Run("device", "erase", "0x300000", "0x1000"), timeout: timeout);
        Assert.True(erase.ExitCode == 0, erase.All);
        var erased = Path.Combine(fw.Dir, "erased.bin");
        var back = await WsctlProcess.RunAsync(Run("device", "read", "0x2FFFC0", "0x1080", "-o", erased),
            timeout: timeout);
        Assert.True(back.ExitCode == 0, back.All);
        var bytes = await File.ReadAllBytesAsync(erased);
        Assert.Equal(before.AsSpan(0x2FFFC0, 64).ToArray(), bytes[..64]);
        Assert.All(bytes[64..^64], b => Assert.Equal(0xFF, b));
        Assert.Equal(before.AsSpan(0x301000, 64).ToArray(), bytes[^64..]);
    }

    private static void InfoReadErase(string chip)
    {
        using var fw = new FirmwareFixture(appSize: 16 * 1024, chip: Chip(chip));
        var before = FlashExpectations.UsedChip(40 + chip.Length)[..EspEmulator.FlashSize];
        var plan = FlashFileLoader.Plan(new FlashRequest { Firmware = fw.Dir });
        using var emulator = EspEmulator.Start(chip, before);
        using (var transport = TcpSerialTransport.Connect("127.0.0.1", emulator.Port))
        {
            // flash writes the build; then, on the same line, the device verbs read it back.
            new EspFlasher(transport, NoReset).FlashAll(plan.Regions);
            var device = Connect(transport);
            var info = device.ReadInfo();
            Assert.Equal(Chip(chip), info.Chip);
            Assert.Equal("4MB", info.FlashSize);
            Assert.Equal(6, info.Facts.Mac.Length);
            Assert.Contains("Wi-Fi", info.Facts.Features);

            // A region flash wrote: the app's first 300 bytes, from an unaligned start.
            var read = device.Read("app", new FlashRange(0x10000 + 2, 0x10000 + 2 + 300));
            Assert.Equal(fw.App.AsSpan(2, 300).ToArray(), read);

            // The partition table flash wrote, parsed from the chip.
            var table = device.ReadPartitionTable();
            Assert.Equal(["nvs", "phy_init", "factory"], table.Partitions.Select(p => p.Label));

            // Erase a sector of the used chip next to the app, then read it: 0xFF, and its neighbours intact.
            device.Erase("sector", new FlashRange(0x200000, 0x201000));
            var erased = device.Read("sector", new FlashRange(0x200000 - 64, 0x201000 + 64));
            Assert.Equal(before.AsSpan(0x200000 - 64, 64).ToArray(), erased[..64]);
            Assert.All(erased[64..^64], b => Assert.Equal(0xFF, b));
            Assert.Equal(before.AsSpan(0x201000, 64).ToArray(), erased[^64..]);
        }
        var after = emulator.StopAndReadFlash();
        var expected = FlashExpectations.ExpectedOnto(before, plan.Regions);
        expected.AsSpan(0x200000, 0x1000).Fill(0xFF);
        FlashExpectations.AssertSameFlash(expected, after);
    }
}
