using WsCore.Chips;
using WsCore.Flashing;

namespace WsCore.Tests.Esp;

/// <summary>
/// FlashParameters.Resolve: the request's values, else the build's, else keep; each checked for its chip.
/// </summary>
public class FlashParametersTests
{
    private static FlasherArgs Build(string? chip = "esp32", string? mode = "dio", string? size = "2MB",
        string? freq = "40m") => new([], mode, size, freq, chip, null, null);

    [Fact]
    public void Resolve_NothingGiven_KeepsTheHeader_FourMegabytesAssumed()
    {
        var p = FlashParameters.Resolve(KnownChips.Esp32, null, null, null, null);
        Assert.Equal(("keep", "keep", "keep", false), (p.Mode, p.Size, p.Freq, p.DetectSize));
        Assert.Equal(FlashParameters.DefaultFlashBytes, p.FlashBytes);
        Assert.Same(KnownChips.Esp32, p.Chip);
    }

    [Fact]
    public void Resolve_TheBuildsValues_UnlessTheRequestGivesItsOwn()
    {
        var fromBuild = FlashParameters.Resolve(KnownChips.Esp32, Build(), null, null, null);
        Assert.Equal(("dio", "2MB", "40m", 2u * 1024 * 1024), (fromBuild.Mode, fromBuild.Size, fromBuild.Freq,
            fromBuild.FlashBytes));
        var asked = FlashParameters.Resolve(KnownChips.Esp32, Build(), "QIO", "8mb", "80M");
        Assert.Equal(("qio", "8MB", "80m", 8u * 1024 * 1024), (asked.Mode, asked.Size, asked.Freq, asked.FlashBytes));
    }

    [Fact]
    public void Resolve_TheBuildNamesAKnownChip_ItWinsOverTheCallers()
    {
        Assert.Same(KnownChips.Esp32C3, FlashParameters.Resolve(KnownChips.Esp32, Build("esp32c3"), null, null, null)
            .Chip);
        Assert.Same(KnownChips.Esp32S3, FlashParameters.Resolve(KnownChips.Esp32S3, Build("esp32p4"), null, null, null)
            .Chip);
    }

    [Theory]
    [InlineData("detect")]
    [InlineData("DETECT")]
    public void Resolve_Detect_SizeKeptInTheHeaderUntilTheChipSaysIt(string size)
    {
        var p = FlashParameters.Resolve(KnownChips.Esp32, Build(size: size), null, null, null);
        Assert.True(p.DetectSize);
        Assert.Equal("keep", p.Size);
        Assert.Equal(FlashParameters.DefaultFlashBytes, p.FlashBytes);
    }

    [Theory]
    [InlineData("fast", null, null, InputField.FlashMode)]
    [InlineData(null, "3MB", null, InputField.FlashSize)]
    [InlineData(null, "512KB", null, InputField.FlashSize)] // a size esptool parses, but no ESP32 header value
    [InlineData(null, null, "60m", InputField.FlashFreq)]
    public void Resolve_AValueTheChipDoesNotTake_RefusedNamingItsField(
        string? mode, string? size, string? freq, InputField field)
    {
        var e = Assert.Throws<WsCoreException>(() => FlashParameters.Resolve(KnownChips.Esp32, null, mode, size, freq));
        Assert.Equal(FailureKind.InvalidInput, e.Kind);
        Assert.Equal(field, e.Field);
    }
}
