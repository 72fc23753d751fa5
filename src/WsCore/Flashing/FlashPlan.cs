using System.Security.Cryptography;

namespace WsCore.Flashing;

/// <summary>The regions to write, checked: sorted, no overlaps, all inside the flash.</summary>
/// <param name="Regions">Sorted by offset.</param>
/// <param name="FlashSizeBytes">Flash size used for SPI_SET_PARAMS and the fit check.</param>
public sealed record FlashPlan(IReadOnlyList<FlashRegion> Regions, uint FlashSizeBytes)
{
    /// <summary>The build's reset after flashing (flasher_args.json's "after"), if it named one.</summary>
    public string? After { get; init; }

    /// <summary>The chip named by the build (flasher_args.json's "chip"), if any.</summary>
    public string? Chip { get; init; }

    /// <summary>Whether the flash size is to be read from the chip ("detect"): the flasher patches it in.</summary>
    public bool DetectFlashSize { get; init; }

    /// <summary>One image of all regions from address 0, 0xFF in the gaps (like esptool merge-bin).</summary>
    public byte[] Merge()
    {
        var end = Regions.Count == 0 ? 0 : Regions.Max(r => r.End);
        var image = new byte[end];
        image.AsSpan().Fill(0xFF);
        foreach (var region in Regions)
            region.Data.CopyTo(image, region.Offset);
        return image;
    }

    /// <summary>Lowercase hex MD5 of a region as the device will report it (data padded to 4 bytes).</summary>
    public static string Md5Of(FlashRegion region)
        => Convert.ToHexStringLower(MD5.HashData(FlashRegion.PadTo4(region.Data)));
}
