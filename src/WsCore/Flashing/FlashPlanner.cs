namespace WsCore.Flashing;

/// <summary>
/// Turns <see cref="FlashSources"/> into a checked <see cref="FlashPlan"/>: each file becomes a region (the bootloader
/// and the app checked as ESP images, the bootloader's header patched), the NVS partition is built where the
/// partition table puts it (<see cref="NvsPlacement"/>), and the regions are laid out and checked
/// (<see cref="FlashLayout"/>). Pure: the caller has read every file.
/// </summary>
public static class FlashPlanner
{
    /// <summary>Where a lone app image goes: the first app partition of ESP-IDF's default tables.</summary>
    public const uint DefaultAppOffset = 0x10000;

    /// <summary>
    /// Builds the plan; throws <see cref="WsCoreException"/> (InvalidInput) with the request's field at fault as its
    /// <see cref="WsCoreException.Field"/>.
    /// </summary>
    public static FlashPlan Create(FlashSources sources)
    {
        var parameters = sources.Parameters;
        var regions = new List<FlashRegion>(sources.Files.Count + 1);
        // Which request field each region came from, for the failures found once they are all known.
        var fields = new Dictionary<FlashRegion, InputField>(ReferenceEqualityComparer.Instance);
        var imageOffsets = new HashSet<uint> { DefaultAppOffset, parameters.Chip.BootloaderOffset };
        if (sources.Build?.AppOffset is { } appOffset)
            imageOffsets.Add(appOffset);
        foreach (var file in sources.Files)
        {
            var region = RegionOf(file, parameters, imageOffsets.Contains(file.Offset), sources.Force);
            regions.Add(region);
            fields[region] = file.Field;
        }
        if (sources.Settings is { } settings)
            regions.Add(NvsPlacement.Region(settings, regions, fields, sources.BuildPartitions));
        return new FlashPlan(FlashLayout.Arrange(regions, fields, parameters.FlashBytes), parameters.FlashBytes)
        {
            After = sources.Build?.After,
            Chip = sources.Build?.Chip,
            DetectFlashSize = parameters.DetectSize,
        };
    }

    /// <summary>
    /// The region a file becomes. The bootloader and the app are ESP images: a file that is not one (a wrong path, a
    /// truncated download, random bytes) would leave a board that does not boot, so it is refused unless forced. The
    /// bootloader's header gets the flash parameters (<see cref="FirmwareImage.PatchFlashParams"/>).
    /// </summary>
    private static FlashRegion RegionOf(FlashSource file, FlashParameters parameters, bool isImage, bool force)
    {
        var data = file.Data;
        if (isImage && !force && FirmwareImage.Problem(data) is { } problem)
            throw new WsCoreException(FailureKind.InvalidInput,
                $"{file.Origin} is not an ESP image for 0x{file.Offset:X}: {problem}",
                "force the write to put it there anyway")
            { Field = file.Field, HintField = InputField.Force };
        if (file.Offset == parameters.Chip.BootloaderOffset)
            data = FirmwareImage.PatchFlashParams(data, parameters.Chip, parameters.Mode, parameters.Size,
                parameters.Freq);
        return new FlashRegion(file.Name, file.Offset, data) { IsImage = isImage };
    }
}
