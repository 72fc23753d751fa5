using System.Security.Cryptography;
using System.Text.Json;
using WsCore.Chips;
using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Tests.Support;

namespace WsCore.Tests.Esp;

/// <summary>
/// <c>wsctl device</c>'s subverbs, the built wsctl run as a process, against the simulated ROM loader: what each reads
/// or changes in the simulator's flash, the commands it sent, its files, output and exit codes.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class DeviceCliTests
{
    private static string[] Device(RomSimulator sim, string subverb, params string[] rest) =>
        ["device", subverb, "--port", sim.Url, "--before", "no-reset", "--after", "no-reset", .. rest];

    /// <summary>Commands that write or erase: FLASH_BEGIN, FLASH_DATA, FLASH_DEFL_BEGIN, FLASH_DEFL_DATA.</summary>
    private static readonly byte[] WritingOps = [0x02, 0x03, 0x10, 0x11];

    private static async Task<WsctlResult> RunAsync(RomSimulator sim, string[] args)
    {
        var result = await WsctlProcess.RunAsync(args);
        sim.WaitIdle(TimeSpan.FromSeconds(10));
        return result;
    }

    /// <summary>A simulator whose flash holds a used chip's bytes, and a partition table with its MD5 entry.</summary>
    private static RomSimulator UsedChip(int seed, ChipDescriptor? chip = null)
    {
        var sim = new RomSimulator(chip: chip);
        FlashExpectations.UsedChip(seed).CopyTo(sim.Flash, 0);
        WithMd5Entry(FirmwareFixture.BuildPartitionTable(0x9000, 0x6000), 3).CopyTo(sim.Flash, 0x8000);
        return sim;
    }

    /// <summary>The table with gen_esp32part.py's MD5 entry after its <paramref name="entries"/> entries.</summary>
    private static byte[] WithMd5Entry(byte[] table, int entries)
    {
        var copy = table.ToArray();
        var at = entries * 32;
        copy[at] = 0xEB;
        copy[at + 1] = 0xEB;
        copy.AsSpan(at + 2, 14).Fill(0xFF);
        MD5.HashData(copy.AsSpan(0, at)).CopyTo(copy, at + 16);
        return copy;
    }

    private static JsonElement Result(WsctlResult run) =>
        JsonDocument.Parse(run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;

    [Fact]
    public async Task Info_Esp32_ChipMacFlashAndEfuseSecurity_TextAndJson()
    {
        using var sim = new RomSimulator();
        // eFuse block 0: the MAC in words 1-2, a D0WD package with ECO3 revision bits (word 3, word 5, APB date).
        sim.Registers[Esp32Efuses.Block0 + 4] = 0x33445566;
        sim.Registers[Esp32Efuses.Block0 + 8] = 0x00001122;
        sim.Registers[Esp32Efuses.Block0 + 12] = (1u << 9) | (1u << 15);
        sim.Registers[Esp32Efuses.Block0 + 20] = 1u << 20;
        sim.Registers[Esp32Efuses.ApbCtlDate] = 1u << 31;
        var text = await RunAsync(sim, Device(sim, "info"));
        Assert.True(text.ExitCode == 0, text.All);
        Assert.Contains("ESP32 (ESP32-D0WD-V3, revision v3.0)", text.Stdout);
        Assert.Contains("MAC:       11:22:33:44:55:66", text.Stdout);
        Assert.Contains("4MB (JEDEC ID 0x164020", text.Stdout);
        Assert.Contains("secure boot off, flash encryption off (from the eFuses)", text.Stdout);
        Assert.DoesNotContain("Connecting", text.Stdout); // progress is on stderr
        Assert.DoesNotContain(sim.Ops, op => WritingOps.Contains(op));

        var json = await RunAsync(sim, Device(sim, "info", "--json"));
        Assert.True(json.ExitCode == 0, json.All);
        var result = Result(json);
        Assert.Equal("ESP32", result.GetProperty("chip").GetString());
        Assert.Equal("11:22:33:44:55:66", result.GetProperty("mac").GetString());
        Assert.Equal("0x164020", result.GetProperty("flash_id").GetString());
        Assert.Equal("4MB", result.GetProperty("flash_size").GetString());
        Assert.Equal("efuses", result.GetProperty("security").GetProperty("source").GetString());
    }

    [Fact]
    public async Task Info_Esp32C3_SecurityFromTheRom()
    {
        using var sim = new RomSimulator(chip: KnownChips.Esp32C3);
        var json = await RunAsync(sim, Device(sim, "info", "--json"));
        Assert.True(json.ExitCode == 0, json.All);
        var result = Result(json);
        Assert.Equal("ESP32-C3", result.GetProperty("chip").GetString());
        Assert.Equal("rom", result.GetProperty("security").GetProperty("source").GetString());
        Assert.Equal(40, result.GetProperty("crystal_mhz").GetInt32());
    }

    [Fact]
    public async Task Read_Range_FileIs0600_HoldsTheFlash_64BytesACommand_NothingWritten()
    {
        using var sim = UsedChip(1);
        var dir = Directory.CreateTempSubdirectory("wsctl-read-").FullName;
        try
        {
            var path = Path.Combine(dir, "part.bin");
            var run = await RunAsync(sim, Device(sim, "read", "0x10002", "300", "-o", path));
            Assert.True(run.ExitCode == 0, run.All);
            Assert.Equal(sim.Flash.AsSpan(0x10002, 300).ToArray(), await File.ReadAllBytesAsync(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            var reads = sim.Requests.Where(r => r.Op == 0x0E).ToList();
            Assert.All(reads, r => Assert.InRange(BitConverter.ToUInt32(r.Data, 4), 1u, 64u));
            Assert.Equal(5, reads.Count); // 0x10000-0x10130 in whole words: 304 bytes, 64 at a time
            Assert.Contains((byte)0x13, sim.Ops); // checked against the ROM's MD5
            Assert.DoesNotContain(sim.Ops, op => WritingOps.Contains(op));
            Assert.Contains($"md5 {Convert.ToHexStringLower(MD5.HashData(sim.Flash.AsSpan(0x10002, 300)))}",
                run.Stdout);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Read_Partition_ByLabel_AndAnUnknownLabel_Exit1ListsThem()
    {
        using var sim = UsedChip(2);
        var dir = Directory.CreateTempSubdirectory("wsctl-read-").FullName;
        try
        {
            var path = Path.Combine(dir, "nvs.bin");
            var run = await RunAsync(sim, Device(sim, "read", "--partition", "phy_init", "-o", path, "--json"));
            Assert.True(run.ExitCode == 0, run.All);
            Assert.Equal(sim.Flash.AsSpan(0xF000, 0x1000).ToArray(), await File.ReadAllBytesAsync(path));
            Assert.Equal(0xF000, Result(run).GetProperty("offset").GetInt32());

            var unknown = await RunAsync(sim, Device(sim, "read", "--partition", "spiffs", "-o", path));
            Assert.Equal(1, unknown.ExitCode);
            Assert.Contains("--partition: no partition 'spiffs'", unknown.Stderr);
            Assert.Contains("nvs, phy_init, factory", unknown.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Read_AByteChangedOnTheLine_Exit11_NoFile()
    {
        using var sim = UsedChip(7);
        sim.CorruptNextRead = true;
        var path = Path.Combine(Path.GetTempPath(), $"wsctl-never-{Guid.NewGuid():N}.bin");
        var run = await RunAsync(sim, Device(sim, "read", "0x1000", "0x100", "-o", path));
        Assert.Equal(11, run.ExitCode);
        Assert.Contains("does not match the flash", run.Stderr);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Read_AGarbledAnswer_IsAskedForAgain()
    {
        using var sim = UsedChip(8);
        var dir = Directory.CreateTempSubdirectory("wsctl-read-").FullName;
        try
        {
            var path = Path.Combine(dir, "part.bin");
            // The tenth read's answer (of 128) comes with an invalid SLIP escape.
            sim.ReplaceSlowReadAnswer = (10, [0xC0, 0x01, 0x0E, 0xDB, 0x00, 0xC0]);
            var run = WsctlProcess.Start(Device(sim, "read", "0x20000", "0x2000", "-o", path, "-v"));
            using (run)
            {
                var exit = await run.WaitForExitAsync(TimeSpan.FromSeconds(60));
                Assert.True(exit == 0, run.Stderr);
                Assert.Contains("asking again", run.Stderr);
            }
            Assert.Equal(sim.Flash.AsSpan(0x20000, 0x2000).ToArray(), await File.ReadAllBytesAsync(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(new string[] { }, "what to read?")]
    [InlineData(new[] { "0x1000" }, "OFFSET needs a SIZE")]
    [InlineData(new[] { "0x1000", "0x100", "--all" }, "give one of")]
    [InlineData(new[] { "nine", "0x100" }, "OFFSET 'nine' is not a number")]
    [InlineData(new[] { "0x1000", "0" }, "SIZE must be more than 0")]
    [InlineData(new[] { "0x3FFFF0", "0x100" }, "is not inside the flash")]
    public async Task Read_BadRange_Exit1(string[] range, string message)
    {
        using var sim = new RomSimulator();
        var path = Path.Combine(Path.GetTempPath(), $"wsctl-never-{Guid.NewGuid():N}.bin");
        var run = await RunAsync(sim, Device(sim, "read", [.. range, "-o", path]));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.False(File.Exists(path));
        Assert.DoesNotContain("unexpected", run.Stderr);
    }

    [Fact]
    public async Task Erase_Range_ReadsBackErased_NeighboursIntact()
    {
        using var sim = UsedChip(3);
        var before = sim.Flash.ToArray();
        var run = await RunAsync(sim, Device(sim, "erase", "0x9000", "0x2000", "--json"));
        Assert.True(run.ExitCode == 0, run.All);
        var expected = before.ToArray();
        expected.AsSpan(0x9000, 0x2000).Fill(0xFF);
        FlashExpectations.AssertSameFlash(expected, sim.Flash);
        // One FLASH_BEGIN announcing the range and no blocks; no data sent.
        var begin = Assert.Single(sim.Requests, r => r.Op == 0x02);
        Assert.Equal(new uint[] { 0x2000, 0, 0x400, 0x9000 },
            Enumerable.Range(0, 4).Select(i => BitConverter.ToUInt32(begin.Data, 4 * i)));
        Assert.DoesNotContain((byte)0x03, sim.Ops);
        var types = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("type").GetString()).ToList();
        Assert.Contains("erase_start", types);
        Assert.Contains("region_erased", types);
        Assert.Equal(0x2000, Result(run).GetProperty("size").GetInt32());
    }

    [Fact]
    public async Task Erase_Unaligned_Exit1_HintsTheAlignedRange_TouchesNothing()
    {
        using var sim = new RomSimulator();
        var run = await RunAsync(sim, Device(sim, "erase", "0x9100", "0x1000"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("not whole 4 KiB sectors", run.Stderr);
        Assert.Contains("give offset 0x9000 and size 0x2000", run.Stderr);
        Assert.Equal(0, sim.BytesReceived);
    }

    [Fact]
    public async Task Erase_PartitionAndAll()
    {
        using var sim = UsedChip(4);
        var before = sim.Flash.ToArray();
        var nvs = await RunAsync(sim, Device(sim, "erase", "--partition", "nvs"));
        Assert.True(nvs.ExitCode == 0, nvs.All);
        var expected = before.ToArray();
        expected.AsSpan(0x9000, 0x6000).Fill(0xFF);
        FlashExpectations.AssertSameFlash(expected, sim.Flash);
        Assert.Contains("Erased nvs (0x9000, 24576 bytes)", nvs.Stdout);

        var all = await RunAsync(sim, Device(sim, "erase", "--all"));
        Assert.True(all.ExitCode == 0, all.All);
        Assert.All(sim.Flash, b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public async Task Verify_WhatFlashWrote_Exit0_AChangedApp_Exit11NamesIt_NothingWritten()
    {
        using var fw = new FirmwareFixture();
        using var sim = new RomSimulator();
        var plan = FlashFileLoader.Plan(new FlashRequest { Firmware = fw.Dir });
        FirmwareFixture.ExpectedFlash(plan.Regions.Select(r => (r.Offset, r.Data))).CopyTo(sim.Flash, 0);
        var same = await RunAsync(sim, Device(sim, "verify", "--firmware", fw.Dir));
        Assert.True(same.ExitCode == 0, same.All);
        Assert.Contains("every region (3)", same.Stdout);

        sim.Flash[0x10000 + 1000] ^= 0x40;
        var json = await RunAsync(sim, Device(sim, "verify", "--firmware", fw.Dir, "--json"));
        Assert.Equal(11, json.ExitCode);
        Assert.Contains("app.bin at 0x10000 differs", Result(json).GetProperty("error").GetString());
        var text = await RunAsync(sim, Device(sim, "verify", "--image", $"0x10000={Path.Combine(fw.Dir, "app.bin")}"));
        Assert.Equal(11, text.ExitCode);
        Assert.Contains("app.bin at 0x10000 differs", text.Stderr);
        Assert.DoesNotContain(sim.Ops, op => WritingOps.Contains(op));
    }

    [Fact]
    public async Task Partitions_FromTheChip_Md5Checked_AndFromABuild()
    {
        using var sim = UsedChip(5);
        var run = await RunAsync(sim, Device(sim, "partitions"));
        Assert.True(run.ExitCode == 0, run.All);
        Assert.Matches(@"nvs\s+data\s+nvs\s+0x9000\s+0x6000\s+24576", run.Stdout);
        Assert.Matches(@"factory\s+app\s+factory\s+0x10000", run.Stdout);
        Assert.Contains("MD5 entry matches", run.Stdout);

        sim.Flash[0x8000 + 20] ^= 1; // a label's byte: the entries no longer have their MD5
        var bad = await RunAsync(sim, Device(sim, "partitions", "--json"));
        Assert.Equal(11, bad.ExitCode);
        Assert.False(Result(bad).GetProperty("md5_ok").GetBoolean());

        using var fw = new FirmwareFixture();
        var build = await WsctlProcess.RunAsync(["device", "partitions", "--firmware", fw.Dir, "--json"]);
        Assert.True(build.ExitCode == 0, build.All);
        var partitions = Result(build).GetProperty("partitions");
        Assert.Equal(["nvs", "phy_init", "factory"],
            partitions.EnumerateArray().Select(p => p.GetProperty("label").GetString()));
        Assert.Equal(JsonValueKind.Null, Result(build).GetProperty("md5_ok").ValueKind);
    }

    [Fact]
    public async Task Partitions_BlankChip_SaysThereIsNone()
    {
        using var sim = new RomSimulator();
        var run = await RunAsync(sim, Device(sim, "partitions"));
        Assert.True(run.ExitCode == 0, run.All);
        Assert.Contains("No partition table at 0x8000", run.Stdout);
    }

    [Fact]
    public async Task Ports_ListsEveryUsbSerialPort_AndWhatAutoPicks()
    {
        var root = Directory.CreateTempSubdirectory("wsctl-sysfs-").FullName;
        try
        {
            FakeSysfs.Adapter(root, "ttyUSB0", "10c4", "ea60", product: "CP2102N USB to UART Bridge Controller");
            FakeSysfs.Adapter(root, "ttyUSB1", "046d", "c52b", product: "USB Receiver");
            var env = new Dictionary<string, string> { ["WSCTL_SYSFS_ROOT"] = root };
            var text = await WsctlProcess.RunAsync(["device", "ports"], environment: env);
            Assert.True(text.ExitCode == 0, text.All);
            Assert.Matches(@"/dev/ttyUSB0\s+10c4:ea60\s+CP210x\s+CP2102N USB to UART Bridge Controller", text.Stdout);
            Assert.Matches(@"/dev/ttyUSB1\s+046d:c52b\s+-\s+USB Receiver", text.Stdout);
            Assert.Contains("--port auto: /dev/ttyUSB0 (the one known ESP32 adapter (CP210x))", text.Stdout);

            FakeSysfs.Adapter(root, "ttyACM0", "303a", "1001", product: "USB JTAG/serial debug unit");
            var json = await WsctlProcess.RunAsync(["device", "ports", "--json"], environment: env);
            Assert.True(json.ExitCode == 0, json.All);
            var result = Result(json);
            Assert.Equal(3, result.GetProperty("ports").GetArrayLength());
            Assert.Equal(JsonValueKind.Null, result.GetProperty("auto").ValueKind);
            Assert.Contains("2 known ESP32 adapters", result.GetProperty("auto_reason").GetString());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task FlashEraseAll_EverythingOutsideTheBuildIsErased()
    {
        using var fw = new FirmwareFixture();
        using var sim = UsedChip(6);
        var run = await RunAsync(sim, ["flash", "--port", sim.Url, "--before", "no-reset", "--after", "no-reset",
            "--firmware", fw.Dir, "--erase-all"]);
        Assert.True(run.ExitCode == 0, run.All);
        var plan = FlashFileLoader.Plan(new FlashRequest { Firmware = fw.Dir });
        FlashExpectations.AssertSameFlash(
            FirmwareFixture.ExpectedFlash(plan.Regions.Select(r => (r.Offset, r.Data))), sim.Flash);
        Assert.Contains("Erasing flash at 0x0 (4194304 bytes)", run.Stdout);
    }
}
