using System.Security.Cryptography;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.Nvs;

namespace WsCore.Flashing;

/// <summary>What the user asked to write, before any file is read.</summary>
public sealed record FlashRequest
{
    /// <summary>
    /// An ESP-IDF build directory (with flasher_args.json) or an app .bin (written at 0x10000), or null.
    /// </summary>
    public string? Firmware { get; init; }

    /// <summary>Explicit (offset, file) images, written as given.</summary>
    public IReadOnlyList<(uint Offset, string Path)> Images { get; init; } = [];

    /// <summary>Settings to write as the NVS partition, or null for none.</summary>
    public DeviceSettings? Settings { get; init; }

    /// <summary>Flash mode/size/frequency; null takes flasher_args.json's value, else "keep".</summary>
    public string? FlashMode { get; init; }
    public string? FlashSize { get; init; }
    public string? FlashFreq { get; init; }

    /// <summary>The target chip (only the ESP32 is written today).</summary>
    public ChipDescriptor Chip { get; init; } = KnownChips.Esp32;

    /// <summary>Write the bootloader and app even when their image headers are not well formed.</summary>
    public bool Force { get; init; }
}

/// <summary>The regions to write, checked: no overlaps, all inside the flash.</summary>
/// <param name="Regions">Sorted by offset.</param>
/// <param name="FlashSizeBytes">Flash size used for SPI_SET_PARAMS and the fit check.</param>
/// <param name="Before">The build's reset before flashing (flasher_args.json's "before"), if it named one.</param>
/// <param name="After">The build's reset after flashing (flasher_args.json's "after"), if it named one.</param>
/// <param name="Chip">The chip named by the build, if any.</param>
public sealed record FlashPlan(
    IReadOnlyList<FlashRegion> Regions, uint FlashSizeBytes, string? Before, string? After, string? Chip)
{
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

/// <summary>
/// Turns a <see cref="FlashRequest"/> into a checked <see cref="FlashPlan"/>. Reads files; writes nothing.
/// </summary>
public static class FlashPlanner
{
    /// <summary>Where the NVS partition is when no partition table says otherwise (partitions_singleapp.csv).</summary>
    public const uint DefaultNvsOffset = 0x9000;
    public const int DefaultNvsSize = 0x6000;
    /// <summary>Where a lone app image goes.</summary>
    public const uint DefaultAppOffset = 0x10000;

    /// <summary>
    /// Builds the plan; throws <see cref="WsCoreException"/> (InvalidInput) with the request's field at fault as its
    /// <see cref="WsCoreException.Field"/>.
    /// </summary>
    public static FlashPlan Create(FlashRequest request)
    {
        request.Settings?.Validate();
        var files = new List<(string Name, uint Offset, string Path, InputField Field)>();
        var imageOffsets = new HashSet<uint> { DefaultAppOffset };
        FlasherArgs? args = null;
        string? baseDir = null;
        if (request.Firmware is { } firmware)
        {
            if (Directory.Exists(firmware))
            {
                var json = Path.Combine(firmware, "flasher_args.json");
                if (!File.Exists(json))
                    throw WsCoreException.Invalid(InputField.Firmware,
                        $"{firmware} has no flasher_args.json (expected an ESP-IDF build directory, or an app .bin)");
                args = FlasherArgs.Parse(File.ReadAllText(json), json);
                baseDir = firmware;
                foreach (var (offset, path) in args.Files)
                    files.Add((Path.GetFileName(path), offset, Path.Combine(firmware, path), InputField.Firmware));
                if (args.AppOffset is { } appOffset)
                    imageOffsets.Add(appOffset);
            }
            else if (File.Exists(firmware))
                files.Add(("app", DefaultAppOffset, firmware, InputField.Firmware));
            else
                throw WsCoreException.Invalid(InputField.Firmware, $"{firmware} does not exist");
        }
        foreach (var (offset, path) in request.Images)
            files.Add((Path.GetFileName(path), offset, path, InputField.Images));

        // The chip the build is for (flasher_args.json names it) decides where its bootloader goes; else the caller's.
        var chip = args?.Chip is { } named && KnownChips.ById(named) is { } known ? known : request.Chip;
        imageOffsets.Add(chip.BootloaderOffset);
        var mode = (request.FlashMode ?? args?.FlashMode ?? "keep").ToLowerInvariant();
        var size = request.FlashSize ?? args?.FlashSize ?? "keep";
        var detect = size.Equals("detect", StringComparison.OrdinalIgnoreCase);
        var freq = (request.FlashFreq ?? args?.FlashFreq ?? "keep").ToLowerInvariant();
        if (size.Equals("detect", StringComparison.OrdinalIgnoreCase))
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
        var flashBytes = size == "keep" ? 4u * 1024 * 1024 : FirmwareImage.ParseFlashSize(size)!.Value;

        var regions = new List<FlashRegion>();
        // Which request field each region came from, for the failures found once they are all known.
        var fields = new Dictionary<FlashRegion, InputField>(ReferenceEqualityComparer.Instance);
        foreach (var (name, offset, path, field) in files)
        {
            if (!File.Exists(path))
                throw WsCoreException.Invalid(field, $"{path} does not exist");
            var length = new FileInfo(path).Length;
            if (length == 0)
                throw WsCoreException.Invalid(field, $"{path} is empty");
            if (offset + length > flashBytes)
                throw new WsCoreException(FailureKind.InvalidInput,
                    $"{path} ({length} bytes at 0x{offset:X}) does not fit in a {flashBytes / (1024 * 1024)} MB flash",
                    "set the flash size if the board has more")
                { Field = field, HintField = InputField.FlashSize };
            var data = File.ReadAllBytes(path);
            // The bootloader and the app are ESP images: a file that is not one (a wrong path, a truncated
            // download, random bytes) would leave a board that does not boot.
            var isImage = imageOffsets.Contains(offset);
            if (isImage && !request.Force && FirmwareImage.Problem(data) is { } problem)
                throw new WsCoreException(FailureKind.InvalidInput,
                    $"{path} is not an ESP image for 0x{offset:X}: {problem}", "force the write to put it there anyway")
                { Field = field, HintField = InputField.Force };
            if (offset == chip.BootloaderOffset)
                data = FirmwareImage.PatchFlashParams(data, chip, mode, size, freq);
            var region = new FlashRegion(name, offset, data) { IsImage = isImage };
            regions.Add(region);
            fields[region] = field;
        }

        if (request.Settings is { } settings)
        {
            var (nvsOffset, nvsSize, table) = FindNvs(regions, fields, baseDir);
            byte[] nvs;
            try
            {
                nvs = settings.BuildNvsImage((int)nvsSize);
            }
            catch (ArgumentException e)
            {
                // The partition table's NVS partition is unusable (the settings themselves were validated above):
                // the fault is the table's, so it is reported against where the table came from.
                var where = table is null ? "" : $", from {table.Value.Source}";
                throw WsCoreException.Invalid(table?.Field ?? InputField.Firmware,
                    $"the nvs partition (0x{nvsSize:X} bytes at 0x{nvsOffset:X}{where}) cannot hold the settings: " +
                    e.Message);
            }
            regions.Add(new FlashRegion("nvs", nvsOffset, nvs) { Secret = true });
        }

        regions.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        for (var i = 1; i < regions.Count; i++)
            if (regions[i].Offset < regions[i - 1].End)
            {
                // An explicit image is the likelier mistake than the build's own layout (the NVS region included).
                var (before, after) = (regions[i - 1], regions[i]);
                var field = fields.GetValueOrDefault(before) == InputField.Images || fields.GetValueOrDefault(after) ==
                    InputField.Images ? InputField.Images : InputField.Firmware;
                throw WsCoreException.Invalid(field, $"{before.Name} (0x{before.Offset:X}-0x{before.End:X}) " +
                    $"overlaps {after.Name} at 0x{after.Offset:X}");
            }
        foreach (var region in regions)
            if (region.End > flashBytes)
                throw WsCoreException.Invalid(InputField.FlashSize,
                    $"{region.Name} ends at 0x{region.End:X}, past the end of a 0x{flashBytes:X}-byte flash");
        return new FlashPlan(regions, flashBytes, args?.Before, args?.After, args?.Chip) { DetectFlashSize = detect };
    }

    /// <summary>
    /// The NVS partition from the partition table being written (binary at 0x8000) or the build's partitions.csv;
    /// else 0x9000/0x6000.
    /// </summary>
    /// <returns>The partition, and the table it came from (a file and its request field), if any.</returns>
    private static (uint Offset, uint Size, (string Source, InputField Field)? Table) FindNvs(
        IEnumerable<FlashRegion> regions, Dictionary<FlashRegion, InputField> fields, string? baseDir)
    {
        var table = regions.FirstOrDefault(r => r.Offset == PartitionTable.DefaultOffset || r.Data is [0xAA, 0x50, ..]);
        if (table is not null && PartitionTable.FindNvs(PartitionTable.ParseBinary(table.Data)) is { } inTable)
            return (inTable.Offset, inTable.Size, (table.Name, fields.GetValueOrDefault(table, InputField.Images)));
        if (baseDir is not null)
        {
            var csv = Directory.EnumerateFiles(baseDir, "partitions*.csv").FirstOrDefault()
                ?? Path.Combine(baseDir, "..", "partitions.csv");
            if (File.Exists(csv) && PartitionTable.FindNvs(PartitionTable.ParseCsv(File.ReadAllText(csv))) is { } inCsv)
                return (inCsv.Offset, inCsv.Size, (Path.GetFileName(csv), InputField.Firmware));
        }
        return (DefaultNvsOffset, DefaultNvsSize, null);
    }
}
