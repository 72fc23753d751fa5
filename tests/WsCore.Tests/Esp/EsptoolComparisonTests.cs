using System.Diagnostics;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Nvs;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Esp;

/// <summary>
/// The whole flash after <c>wsctl flash</c> equals the whole flash after esptool, byte for byte, for the same build
/// onto the same used chip through the same real mask ROM in Espressif's QEMU. esptool is the reference every ESP
/// tool is measured against; it runs without its stub (<c>--no-stub</c>), since the stub misbehaves in this
/// emulator, and is given the build's own files and flash settings so that it patches the bootloader header itself.
/// Needs QEMU and esptool (<see cref="Esptool"/>); skipped with the reason otherwise.
/// </summary>
[Collection(EmulatorCollection.Name)]
public class EsptoolComparisonTests
{
    public static TheoryData<string, bool> Runs => new()
    {
        { "esp32", true },
        { "esp32", false },
        { "esp32c3", true },
    };

    [EsptoolEmulatorTheory]
    [MemberData(nameof(Runs))]
    public void FullBuild_OntoAUsedChip_SameFlashAsEsptool(string chip, bool withCredentials)
    {
        using var fw = new FirmwareFixture(appSize: 40 * 1024 + 112, chip: Chip(chip));
        var before = FlashExpectations.UsedChip(chip.Length + (withCredentials ? 20 : 30))[..EspEmulator.FlashSize];
        var request = new FlashRequest
        {
            Firmware = fw.Dir,
            Settings = withCredentials ? new DeviceSettings("MyNet", "password123") : null,
        };
        var plan = FlashFileLoader.Plan(request);

        byte[] byWsctl;
        using (var emulator = EspEmulator.Start(chip, before))
        {
            using (var transport = TcpSerialTransport.Connect("127.0.0.1", emulator.Port))
                new EspFlasher(
                    transport, new FlashSessionOptions { Before = BeforeReset.NoReset, After = AfterReset.NoReset })
                    .FlashAll(plan.Regions);
            byWsctl = emulator.StopAndReadFlash();
        }

        byte[] byEsptool;
        using (var emulator = EspEmulator.Start(chip, before))
        {
            // The build's files as esptool would get them from `idf.py flash`; the NVS partition (our own, there is
            // no ESP-IDF tool here to make it) from the plan, so that both write the same regions.
            var args = new List<string> { "--chip", chip, "--port", $"socket://127.0.0.1:{emulator.Port}",
                "--before", "no_reset", "--after", "no_reset", "--no-stub",
                "write_flash", "--flash_mode", "dio", "--flash_size", "4MB", "--flash_freq", "40m" };
            // esptool's uncompressed write of this app through the emulated C3 ROM failed in each run tried ("Failed
            // to write to target Flash after seq 11"); compressed it goes through, and the C3 ROM has no deflate spill.
            if (chip == "esp32c3")
                args.Add("--compress");
            args.AddRange([$"0x{Chip(chip).BootloaderOffset:x}", Path.Combine(fw.Dir, "bootloader", "bootloader.bin")]);
            args.AddRange(["0x8000", Path.Combine(fw.Dir, "partition_table", "partition-table.bin")]);
            args.AddRange(["0x10000", Path.Combine(fw.Dir, "app.bin")]);
            if (plan.Regions.FirstOrDefault(r => r.Name == "nvs") is { } nvs)
            {
                var nvsFile = Path.Combine(fw.Dir, "nvs.bin");
                File.WriteAllBytes(nvsFile, nvs.Data);
                args.AddRange([$"0x{nvs.Offset:x}", nvsFile]);
            }
            _ = Esptool.Run(args, TimeSpan.FromMinutes(4));
            byEsptool = emulator.StopAndReadFlash();
        }

        FlashExpectations.AssertSameFlash(byEsptool, byWsctl);
        Assert.NotEqual(before, byWsctl); // the comparison is not between two untouched chips
    }

    /// <summary>
    /// What device info reads of a chip is what esptool's chip_id prints of it, through the same real ROM: the
    /// package and revision, the crystal, the MAC and the features.
    /// </summary>
    [EsptoolEmulatorTheory]
    [InlineData("esp32")]
    [InlineData("esp32c3")]
    public void Info_SameChipFactsAsEsptool(string chip)
    {
        var flash = FlashExpectations.UsedChip(60)[..EspEmulator.FlashSize];
        DeviceInfo info;
        using (var emulator = EspEmulator.Start(chip, flash))
        using (var transport = TcpSerialTransport.Connect("127.0.0.1", emulator.Port))
        {
            var device = new EspDevice(
                transport, new FlashSessionOptions { Before = BeforeReset.NoReset, After = AfterReset.NoReset });
            device.Connect();
            info = device.ReadInfo();
        }
        string printed;
        using (var emulator = EspEmulator.Start(chip, flash))
            printed = Esptool.Run(["--chip", chip, "--port", $"socket://127.0.0.1:{emulator.Port}", "--before",
                "no_reset", "--after", "no_reset", "--no-stub", "chip_id"], TimeSpan.FromMinutes(2));
        Assert.Contains($"Chip is {info.Facts.Description} (revision {info.Facts.Revision})", printed);
        // The features are worded as esptool v5 words them; v4 (as installed here) says WiFi and BLE, and leaves out
        // the C3's core count and speed: each of its features is one of ours, in v5's words.
        var features = printed.Split('\n').Single(l => l.StartsWith("Features: ", StringComparison.Ordinal))
            ["Features: ".Length..].Split(", ").Select(f => f.Trim() switch
            {
                "WiFi" => "Wi-Fi",
                "BLE" => "BT 5 (LE)",
                var same => same,
            });
        Assert.All(features, f => Assert.Contains(f, info.Facts.Features));
        Assert.Contains($"Crystal is {info.Facts.CrystalMhz}MHz", printed);
        Assert.Contains($"MAC: {info.Facts.MacText}", printed);
    }

    private static ChipDescriptor Chip(string id) => id == "esp32" ? KnownChips.Esp32 : KnownChips.Esp32C3;
}

/// <summary>
/// esptool, Espressif's reference flasher, from <c>WSCTL_ESPTOOL</c> (a path to esptool.py) or PATH
/// (<c>esptool.py</c>, <c>esptool</c>). Not in Debian, and PyPI is not reachable here: a checkout of
/// espressif/esptool v4 runs with Debian's python3-serial, python3-bitstring, python3-ecdsa, python3-cryptography,
/// python3-yaml and python3-intelhex.
/// </summary>
public static class Esptool
{
    public static string? Find() =>
        Environment.GetEnvironmentVariable("WSCTL_ESPTOOL") is { Length: > 0 } path && File.Exists(path)
            ? path
            : Executables.Find("esptool.py") ?? Executables.Find("esptool");

    /// <summary>Runs esptool with <paramref name="args"/>; throws with its output when it fails or hangs.</summary>
    public static string Run(IEnumerable<string> args, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(Find() ?? throw new InvalidOperationException("esptool not found"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"esptool did not finish in {timeout}: {stdout.Result}{stderr.Result}");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"esptool exited with {process.ExitCode}: " +
                $"{stdout.Result}{stderr.Result}");
        return stdout.Result;
    }

    /// <summary>Why esptool cannot run here, or null when it can.</summary>
    public static string? SkipReason()
    {
        if (Find() is not { } path)
            return "esptool (esptool.py) is not in WSCTL_ESPTOOL or PATH: nothing to compare the flash with";
        try
        {
            _ = Run(["version"], TimeSpan.FromSeconds(30));
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException
            or System.ComponentModel.Win32Exception)
        {
            return $"{path} does not run: {e.Message.Split('\n')[0]}";
        }
    }
}

/// <summary>A [Theory] that runs only where both emulators and esptool are found.</summary>
public sealed class EsptoolEmulatorTheoryAttribute : TheoryAttribute
{
    private static readonly Lazy<string?> Reason = new(() =>
        EspEmulator.SkipReason("esp32") ?? EspEmulator.SkipReason("esp32c3") ?? Esptool.SkipReason());

    public EsptoolEmulatorTheoryAttribute()
    {
        if (Reason.Value is { } reason)
            Skip = reason;
    }
}
