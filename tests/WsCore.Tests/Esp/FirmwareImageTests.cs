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
