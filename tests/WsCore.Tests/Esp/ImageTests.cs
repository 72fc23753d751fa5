using System.Security.Cryptography;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.Flashing;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

public class FirmwareImageTests
{
    [Fact]
    public void Patch_SetsModeSizeFreq_AndRecomputesSha256()
    {
        var image = FirmwareFixture.BuildImage(hashAppended: true);
        var patched = FirmwareImage.PatchFlashParams(image, KnownChips.Esp32, "qio", "4MB", "80m");
        Assert.Equal(0x00, patched[2]);
        Assert.Equal(0x2F, patched[3]);
        var dataLength = image.Length - 32;
        Assert.Equal(SHA256.HashData(patched.AsSpan(0, dataLength)), patched[dataLength..]);
        Assert.NotEqual(image[dataLength..], patched[dataLength..]);
        Assert.Equal(image[4..dataLength], patched[4..dataLength]); // the XOR checksum is left alone
        Assert.Equal(dataLength, FirmwareImage.ValidDataLength(patched));
    }

    [Fact]
    public void Patch_KeepNibbles_AreKept()
    {
        var image = FirmwareFixture.BuildImage(hashAppended: false, mode: 2, sizeFreq: 0x1F);
        var patched = FirmwareImage.PatchFlashParams(image, KnownChips.Esp32, "keep", "8MB", "keep");
        Assert.Equal(2, patched[2]);
        Assert.Equal(0x3F, patched[3]);
        Assert.Equal(image.Length, patched.Length);
    }

    [Fact]
    public void Patch_AllKeep_OrInvalidImage_ReturnsInputUnchanged()
    {
        var image = FirmwareFixture.BuildImage(hashAppended: true);
        Assert.Same(image, FirmwareImage.PatchFlashParams(image, KnownChips.Esp32, "keep", "keep", "keep"));
        var broken = (byte[])image.Clone();
        broken[30] ^= 0xFF; // segment data changed: checksum and digest no longer match
        Assert.Same(broken, FirmwareImage.PatchFlashParams(broken, KnownChips.Esp32, "dio", "4MB", "40m"));
        Assert.Null(FirmwareImage.ValidDataLength([0x00, 1, 2, 3]));
    }
}

public class FlasherArgsTests
{
    [Theory]
    [InlineData("hard_reset", "default_reset")]
    [InlineData("hard-reset", "default-reset")]
    public void Parse_BothSpellings_Normalised(string after, string before)
    {
        // A piece of the JSON below, to keep its line short.
        const string tableEntry = "\"0x8000\": \"partition_table/partition-table.bin\"";
        var args = FlasherArgs.Parse($$"""
            {"flash_settings": {"flash_mode": "dio", "flash_size": "2MB", "flash_freq": "40m"},
             "flash_files": {"0x1000": "bootloader/bootloader.bin", "0x10000": "app.bin", {{tableEntry}}},
             "extra_esptool_args": {"after": "{{after}}", "before": "{{before}}", "stub": true, "chip": "esp32"} }
            """);
        Assert.Equal("hard-reset", args.After);
        Assert.Equal("default-reset", args.Before);
        Assert.Equal("esp32", args.Chip);
        Assert.Equal(("dio", "2MB", "40m"), (args.FlashMode, args.FlashSize, args.FlashFreq));
        Assert.Equal(
            [(0x1000u, "bootloader/bootloader.bin"), (0x10000u, "app.bin"),
                (0x8000u, "partition_table/partition-table.bin")],
            args.Files);
    }

    [Fact]
    public void Parse_OldIdfWithoutExtras_AndGarbage()
    {
        var args = FlasherArgs.Parse("""{"flash_files": {"4096": "b.bin"}}""");
        Assert.Null(args.Chip);
        Assert.Equal(4096u, args.Files[0].Offset);
        var e = Assert.Throws<WsCoreException>(() => FlasherArgs.Parse("{not json"));
        Assert.Equal(FailureKind.InvalidInput, e.Kind);
    }
}

public class PartitionTableTests
{
    [Fact]
    public void ParseBinary_FindsNvs()
    {
        var table = PartitionTable.ParseBinary(FirmwareFixture.BuildPartitionTable(0xA000, 0x4000));
        Assert.Equal(3, table.Count);
        Assert.Equal(new Partition("nvs", 1, 2, 0xA000, 0x4000), PartitionTable.FindNvs(table));
        Assert.Equal("factory", table[2].Label);
    }

    [Fact]
    public void ParseCsv_ExplicitAndAutomaticOffsets()
    {
        var csv = """
            # Name,   Type, SubType, Offset,  Size, Flags
            nvs,      data, nvs,     ,        0x6000,
            phy_init, data, phy,     ,        0x1000,
            factory,  app,  factory, ,        1M,
            """;
        var table = PartitionTable.ParseCsv(csv);
        Assert.Equal(new Partition("nvs", 1, 2, 0x9000, 0x6000), PartitionTable.FindNvs(table));
        Assert.Equal(0xF000u, table[1].Offset);
        Assert.Equal(0x10000u, table[2].Offset);
        Assert.Equal(0x100000u, table[2].Size);
    }
}

public class DeviceSettingsTests
{
    [Theory]
    [InlineData("", "password1", "esp32ws", 8080, 5, "--ssid")]
    [InlineData("123456789012345678901234567890123", "password1", "esp32ws", 8080, 5, "--ssid")]
    [InlineData("net", "short", "esp32ws", 8080, 5, "--pass")]
    [InlineData(
        "net", "0123456789012345678901234567890123456789012345678901234567890123456789", "esp32ws", 8080, 5, "--pass")]
    [InlineData("net", "password1", "-bad", 8080, 5, "--hostname")]
    [InlineData("net", "password1", "has space", 8080, 5, "--hostname")]
    [InlineData("net", "password1", "esp32ws", 0, 5, "--ws-port")]
    [InlineData("net", "password1", "esp32ws", 65536, 5, "--ws-port")]
    [InlineData("net", "password1", "esp32ws", 8080, 0, "--max-clients")]
    [InlineData("net", "password1", "esp32ws", 8080, 9, "--max-clients")]
    [InlineData("net", "password1", "h23456789012345678901234567890123", 8080, 5, "--hostname")]
    public void Validate_BadField_IsNamed(string ssid, string pass, string host, int port, int max, string field)
    {
        var e = Assert.Throws<WsCoreException>(() => new DeviceSettings(ssid, pass, host, port, max).Validate());
        Assert.Equal(FailureKind.InvalidInput, e.Kind);
        Assert.Equal(field, Wsctl.Cli.InputFlags.Table[Assert.NotNull(e.Field)].Flag);
        Assert.DoesNotContain(pass, e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("12345678")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Validate_GoodPasswords_Accepted(string pass) => new DeviceSettings("net", pass).Validate();

    [Fact]
    public void ToString_HidesPassword() =>
        Assert.DoesNotContain("hunter2hunter2", new DeviceSettings("net", "hunter2hunter2").ToString());
}

public class SerialPortFinderTests
{
    [Fact]
    public void Find_FakeSysfs_PicksKnownAdaptersOnly()
    {
        var root = Directory.CreateTempSubdirectory("wsctl-sysfs-").FullName;
        try
        {
            // Real layout: class/tty/X -> devices/.../X/tty/X (relative links), X/device -> the USB interface.
            void Adapter(string tty, string vid, string pid, bool acm)
            {
                var usb = Path.Combine(root, "devices", "pci0000:00", "usb1", $"1-{tty}");
                var iface = Path.Combine(usb, $"1-{tty}:1.0");
                var node = acm ? iface : Path.Combine(iface, tty);
                Directory.CreateDirectory(Path.Combine(node, "tty", tty));
                File.WriteAllText(Path.Combine(usb, "idVendor"), vid + "\n");
                File.WriteAllText(Path.Combine(usb, "idProduct"), pid + "\n");
                var classDir = Path.Combine(root, "class", "tty");
                Directory.CreateDirectory(classDir);
                var ttyDir = Path.Combine(node, "tty", tty);
                File.CreateSymbolicLink(Path.Combine(classDir, tty), Path.GetRelativePath(classDir, ttyDir));
                Directory.CreateSymbolicLink(Path.Combine(ttyDir, "device"), Path.GetRelativePath(ttyDir, node));
            }
            Adapter("ttyUSB0", "10c4", "ea60", acm: false);
            Adapter("ttyACM0", "303a", "1001", acm: true);
            Adapter("ttyUSB1", "046d", "c52b", acm: false); // a mouse receiver: not an ESP32 adapter
            var found = new SerialPortFinder(root, "/dev").Find();
            Assert.Equal(["/dev/ttyACM0", "/dev/ttyUSB0"], found.Select(f => f.DevicePath));
            Assert.True(found[0].IsUsbJtagSerial);
            Assert.Equal("CP210x", found[1].Kind);
            Assert.Empty(new SerialPortFinder(Path.Combine(root, "nothing")).Find());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
