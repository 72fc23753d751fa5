using WsCore.Flashing;

namespace WsCore.Tests.Esp;

/// <summary>
/// FlashLayout: regions sorted, inside the flash, not overlapping; each fault on the field behind it.
/// </summary>
public class FlashLayoutTests
{
    private const uint FourMegabytes = 4 * 1024 * 1024;

    [Fact]
    public void Arrange_SortsByOffset()
    {
        FlashRegion app = new("app", 0x10000, [1]), boot = new("boot", 0x1000, [2]), nvs = new("nvs", 0x9000, [3]);
        Assert.Equal([boot, nvs, app], FlashLayout.Arrange([app, boot, nvs], new Dictionary<FlashRegion, InputField>(),
            FourMegabytes));
    }

    [Theory]
    [InlineData(InputField.Firmware, InputField.Firmware, InputField.Firmware)]
    [InlineData(InputField.Firmware, InputField.Images, InputField.Images)]
    [InlineData(InputField.Images, null, InputField.Images)]
    [InlineData(InputField.Firmware, null, InputField.Firmware)] // the NVS region over the build's
    public void Arrange_Overlap_AnExplicitImageIsBlamedBeforeTheBuild(
        InputField first, InputField? second, InputField blamed)
    {
        FlashRegion a = new("a.bin", 0x8000, new byte[0x2000]), b = new("b.bin", 0x9000, new byte[0x1000]);
        var fields = new Dictionary<FlashRegion, InputField> { [a] = first };
        if (second is { } f)
            fields[b] = f;
        var e = Assert.Throws<WsCoreException>(() => FlashLayout.Arrange([b, a], fields, FourMegabytes));
        Assert.Equal(blamed, e.Field);
        Assert.Equal("a.bin (0x8000-0xA000) overlaps b.bin at 0x9000", e.Message);
    }

    [Fact]
    public void Arrange_PastTheEnd_BlamesTheFlashSize()
    {
        FlashRegion nvs = new("nvs", FourMegabytes - 0x1000, new byte[0x2000]);
        var e = Assert.Throws<WsCoreException>(() =>
            FlashLayout.Arrange([nvs], new Dictionary<FlashRegion, InputField>(), FourMegabytes));
        Assert.Equal(InputField.FlashSize, e.Field);
    }

    [Fact]
    public void CheckFits_TooLarge_BlamesTheFileWithTheFlashSizeAsHint_FittingExactlyPasses()
    {
        FlashLayout.CheckFits("app.bin", 0x10000, FourMegabytes - 0x10000, FourMegabytes, InputField.Images);
        var e = Assert.Throws<WsCoreException>(() =>
            FlashLayout.CheckFits("app.bin", 0x10001, FourMegabytes - 0x10000, FourMegabytes, InputField.Images));
        Assert.Equal((InputField.Images, InputField.FlashSize), (e.Field, e.HintField));
        Assert.Equal("app.bin (65537 bytes at 0x3F0000) does not fit in a 4 MB flash", e.Message);
    }
}
