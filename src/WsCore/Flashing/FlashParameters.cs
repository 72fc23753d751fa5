using WsCore.Chips;

namespace WsCore.Flashing;

/// <summary>
/// The chip a run writes for and the flash mode, size and frequency its bootloader header gets: the request's
/// values, else the build's (flasher_args.json), else "keep" (docs/esp32-rom-protocol.md §9 and §10). Pure: no I/O.
/// </summary>
public sealed record FlashParameters
{
    /// <summary>The flash size assumed when the header's is kept: the 4 MB of the boards the firmware is for.</summary>
    public const uint DefaultFlashBytes = 4 * 1024 * 1024;

    /// <summary>The chip: the build's when flasher_args.json names a known one, else the caller's.</summary>
    public required ChipDescriptor Chip { get; init; }

    /// <summary>qio, qout, dio, dout, or keep.</summary>
    public required string Mode { get; init; }

    /// <summary>A size such as 4MB, or keep (also when it is to be detected).</summary>
    public required string Size { get; init; }

    /// <summary>A frequency such as 40m, or keep.</summary>
    public required string Freq { get; init; }

    /// <summary>Whether the size is to be read from the flash chip once connected ("detect").</summary>
    public required bool DetectSize { get; init; }

    /// <summary>The flash size in bytes the plan is checked against (keep: <see cref="DefaultFlashBytes"/>).</summary>
    public required uint FlashBytes { get; init; }

    /// <summary>Resolves and checks the flash parameters.</summary>
    /// <param name="requestedChip">The chip the caller expects, used when the build names none.</param>
    /// <param name="build">The build's flasher_args.json, or null.</param>
    /// <param name="mode">The requested mode, or null.</param>
    /// <param name="size">The requested size (or detect), or null.</param>
    /// <param name="freq">The requested frequency, or null.</param>
    /// <exception cref="WsCoreException">
    /// InvalidInput of FlashMode, FlashFreq or FlashSize: not a value the chip takes.
    /// </exception>
    public static FlashParameters Resolve(
        ChipDescriptor requestedChip, FlasherArgs? build, string? mode, string? size, string? freq)
    {
        // The chip the build is for decides where its bootloader goes; else the caller's.
        var chip = build?.Chip is { } named && KnownChips.ById(named) is { } known ? known : requestedChip;
        mode = (mode ?? build?.FlashMode ?? "keep").ToLowerInvariant();
        size = size ?? build?.FlashSize ?? "keep";
        freq = (freq ?? build?.FlashFreq ?? "keep").ToLowerInvariant();
        var detect = size.Equals("detect", StringComparison.OrdinalIgnoreCase);
        if (detect)
            size = "keep"; // the flasher reads the JEDEC ID once connected and patches the size then
        size = size.Equals("keep", StringComparison.OrdinalIgnoreCase) ? "keep" : size.ToUpperInvariant();
        if (mode != "keep" && !FirmwareImage.FlashModes.ContainsKey(mode))
            throw WsCoreException.Invalid(InputField.FlashMode, $"'{mode}' is not one of qio, qout, dio, dout, keep");
        if (freq != "keep" && !chip.FlashFrequencies.ContainsKey(freq))
            throw WsCoreException.Invalid(InputField.FlashFreq,
                $"'{freq}' is not one of {string.Join(", ", chip.FlashFrequencies.Keys)}, keep");
        if (size != "keep" && (!chip.FlashSizes.ContainsKey(size) || FirmwareImage.ParseFlashSize(size) is null))
            throw WsCoreException.Invalid(InputField.FlashSize,
                $"'{size}' is not one of {string.Join(", ", chip.FlashSizes.Keys)}, keep, detect");
        return new FlashParameters
        {
            Chip = chip,
            Mode = mode,
            Size = size,
            Freq = freq,
            DetectSize = detect,
            FlashBytes = size == "keep" ? DefaultFlashBytes : FirmwareImage.ParseFlashSize(size)!.Value,
        };
    }
}
