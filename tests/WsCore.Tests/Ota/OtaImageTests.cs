using System.Security.Cryptography;
using WsCore.Ota;
using WsCore.Tests.Esp;

namespace WsCore.Tests.Ota;

public class OtaImageTests
{
    [Fact]
    public void Parse_AnApp_ChipProjectVersionElfAndHash()
    {
        var data = OtaTestImage.Build("esp32ws", "1.3.0", 4096, chipId: 5);

        var image = OtaImage.Parse(data, "app.bin");

        Assert.Equal((5, "esp32c3", "esp32ws", "1.3.0"), ((int)image.ChipId, image.ChipName, image.Project,
            image.Version));
        Assert.Equal(OtaTestImage.ElfSha256Of("esp32ws", "1.3.0"), image.ElfSha256);
        Assert.Equal(SHA256.HashData(data), image.Sha256);
        Assert.Same(data, image.Data);
    }

    [Fact]
    public void Parse_ThirtyTwoCharacterVersion_NoNulNeeded()
    {
        var version = new string('v', 31) + "9";
        Assert.Equal(version, OtaImage.Parse(OtaTestImage.Build("p", version, 1024), "app.bin").Version);
    }

    [Fact]
    public void Parse_UnknownChip_NamedByItsId() =>
        Assert.Equal("chip id 13", OtaImage.Parse(OtaTestImage.Build("p", "1", 1024, chipId: 13), "a").ChipName);

    [Fact]
    public void Parse_NotAnImage_InvalidFirmware()
    {
        var e = Assert.Throws<WsCoreException>(() => OtaImage.Parse(new byte[4096], "zeros.bin"));
        Assert.Equal((FailureKind.InvalidInput, InputField.Firmware), (e.Kind, e.Field));
        Assert.StartsWith("zeros.bin is not an ESP app image: its first byte is 0x00", e.Message);
    }

    [Fact]
    public void Parse_DamagedImage_SaysHow()
    {
        var data = OtaTestImage.Build("esp32ws", "1.3.0", 4096);
        data[1000] ^= 1;
        var e = Assert.Throws<WsCoreException>(() => OtaImage.Parse(data, "app.bin"));
        Assert.Contains("checksum", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ImageWithoutAppDescription_ABootloader()
    {
        // FlashFixtures' images: valid ESP images whose first segment is no app description.
        var e = Assert.Throws<WsCoreException>(() =>
            OtaImage.Parse(FirmwareFixture.BuildImage(hashAppended: true), "bootloader.bin"));
        Assert.Contains("no app description", e.Message, StringComparison.Ordinal);
        Assert.Equal(InputField.Firmware, e.Field);
    }

    [Fact]
    public void Load_BuildDirectory_TheAppItsFlasherArgsName()
    {
        using var build = new FirmwareFixture();
        var app = OtaTestImage.Build("esp32ws", "2.0.0", 8192);
        File.WriteAllBytes(Path.Combine(build.Dir, "app.bin"), app);

        var image = OtaImageFile.Load(build.Dir);

        Assert.Equal("2.0.0", image.Version);
    }

    [Fact]
    public void Load_MissingFile_InvalidFirmware()
    {
        var e = Assert.Throws<WsCoreException>(() => OtaImageFile.Load("/nonexistent/app.bin"));
        Assert.Equal((InputField.Firmware, "/nonexistent/app.bin does not exist"), (e.Field, e.Message));
    }
}
