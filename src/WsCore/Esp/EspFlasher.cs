using Serilog;
using WsCore.Chips;
using WsCore.Flashing;

namespace WsCore.Esp;

/// <summary>
/// Writes regions to an ESP chip through its ROM loader (no stub), from start to finish
/// (docs/esp32-rom-protocol.md §7): connect (<see cref="EspDevice.ConnectLoader"/>), refuse images built for another
/// chip, attach the flash and set its size (<see cref="EspDevice.AttachFlash"/>: read from the flash chip when asked),
/// plan the writes (<see cref="WritePlanner"/>, <see cref="FlashCompressor"/>), write and verify them
/// (<see cref="FlashWriter"/>), check the flash around them, and reset as asked.
/// </summary>
/// <remarks>One owner: not thread-safe. Throws <see cref="WsCoreException"/> at its edge.</remarks>
public sealed class EspFlasher
{
    /// <summary>Bytes on each side of a written region that must read back unchanged: one ROM inflate window.</summary>
    public const int GuardNeighbourhood = 32 * 1024;

    private readonly EspDevice _device;
    private readonly FlashSessionOptions _options;
    private readonly ILogger _logger;
    private readonly IFlashObserver? _observer;

    public EspFlasher(
        ISerialTransport transport,
        FlashSessionOptions options,
        ILogger? logger = null,
        IFlashObserver? observer = null)
    {
        _logger = logger ?? Serilog.Core.Logger.None;
        _device = new EspDevice(transport, options, _logger, observer);
        _options = options;
        _observer = observer;
    }

    /// <summary>Bytes sent on the line so far (SLIP framing included).</summary>
    public long BytesSent => _device.BytesSent;

    /// <summary>The detected chip, after <see cref="Connect"/>.</summary>
    public ChipDescriptor? Chip => _device.Chip;

    /// <summary>
    /// The flash size read from the chip's JEDEC ID (with <c>FlashSize</c> null: detect), e.g. "4MB".
    /// </summary>
    public string? DetectedFlashSize => _device.DetectedFlashSize;

    /// <summary>Resets into the bootloader, syncs, detects the chip and changes the baud rate if asked.</summary>
    public void Connect(CancellationToken cancel = default) => _device.ConnectLoader(cancel);

    /// <summary>
    /// Connects, erases the whole flash if asked, writes every region that is not already in flash, verifies each,
    /// checks that the flash around them is unchanged, and resets as asked.
    /// </summary>
    public void FlashAll(IReadOnlyList<FlashRegion> regions, CancellationToken cancel = default)
    {
        Connect(cancel);
        var loader = _device.Loader;
        CheckImagesAreFor(loader.Chip, regions);
        _device.AttachFlash();
        var flashSize = _device.FlashSize;
        if (DetectedFlashSize is { } detected)
            regions = WithBootloaderSize(regions, loader.Chip, detected);
        var writer = new FlashWriter(loader, _options.BlockAttempts, _logger, _observer);
        if (_options.EraseAll)
            _device.EraseAll(cancel);
        var toWrite = new List<FlashRegion>(regions.Count);
        foreach (var region in regions)
        {
            cancel.ThrowIfCancellationRequested();
            // After a whole-chip erase nothing is in flash: no region is checked for being there already.
            if (_options.EraseAll || !writer.AlreadyInFlash(region))
                toWrite.Add(region);
        }
        // Regions skipped above are not rewritten, so no spill may be planned into them: plan only what is written.
        var guards = WritePlanner.GuardRanges(toWrite, flashSize, GuardNeighbourhood);
        var before = writer.ReadChecksums(guards);
        var writes = WritePlanner.Plan(toWrite, loader.Chip.DeflateSpillWindow, data => FlashCompressor.Compress(data));
        foreach (var write in writes)
        {
            cancel.ThrowIfCancellationRequested();
            writer.Write(write, cancel);
        }
        writer.CheckUnchanged(guards, before);
        _device.Finish();
    }

    /// <summary>
    /// Refuses, before anything is written, an image whose header names another chip than the one connected: the
    /// board would not boot it. <see cref="FlashSessionOptions.Force"/> writes it anyway.
    /// </summary>
    private void CheckImagesAreFor(ChipDescriptor chip, IReadOnlyList<FlashRegion> regions)
    {
        foreach (var region in regions.Where(r => r.IsImage))
        {
            if (FirmwareImage.ChipId(region.Data) is not { } id || id == chip.ImageChipId)
                continue;
            var builtFor = KnownChips.ByImageChipId(id)?.Name ?? $"chip id {id}";
            if (_options.Force)
            {
                _logger.Warning(
                    "{Region} is built for {BuiltFor}, the device is {Chip}: writing it anyway (forced)",
                    region.Name,
                    builtFor,
                    chip.Name);
                continue;
            }
            throw new WsCoreException(FailureKind.InvalidInput,
                $"{region.Name} at 0x{region.Offset:X} is built for {builtFor}, but the device is {chip.Name}: " +
                    "nothing was written",
                $"build for {chip.Name} (idf.py set-target {chip.Id}), or force it");
        }
    }

    /// <summary>The bootloader's header says the flash size the chip has (as esptool's detect does).</summary>
    internal static IReadOnlyList<FlashRegion> WithBootloaderSize(
        IReadOnlyList<FlashRegion> regions, ChipDescriptor chip, string size) =>
        regions.Select(r => r.IsImage && r.Offset == chip.BootloaderOffset
            ? r with { Data = FirmwareImage.PatchFlashParams(r.Data, chip, "keep", size, "keep") }
            : r).ToList();
}
