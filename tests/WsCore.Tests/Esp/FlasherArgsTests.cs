using System.Security.Cryptography;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.Flashing;
using WsCore.Nvs;

namespace WsCore.Tests.Esp;

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
