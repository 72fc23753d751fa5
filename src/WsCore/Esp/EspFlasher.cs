using Serilog;
using WsCore.Chips;
using WsCore.Flashing;

namespace WsCore.Esp;

/// <summary>
/// Writes regions to an ESP chip through its ROM loader (no stub), from start to finish
/// (docs/esp32-rom-protocol.md §7): connect (<see cref="LoaderConnector"/>), refuse images built for another chip,
/// attach the flash and set its size (read from the flash chip when asked, <see cref="RomRegisters.ReadFlashId"/>),
/// plan the writes (<see cref="WritePlanner"/>, <see cref="FlashCompressor"/>), write and verify them
/// (<see cref="FlashWriter"/>), check the flash around them, and reset as asked.
/// </summary>
/// <remarks>One owner: not thread-safe. Throws <see cref="WsCoreException"/> at its edge.</remarks>
public sealed class EspFlasher
{
    /// <summary>Bytes on each side of a written region that must read back unchanged: one ROM inflate window.</summary>
    public const int GuardNeighbourhood = 32 * 1024;

    private readonly RomConnection _connection;
    private readonly FlashSessionOptions _options;
    private readonly ILogger _logger;
    private readonly IFlashObserver? _observer;
    private RomLoader? _loader;

    public EspFlasher(
        ISerialTransport transport,
        FlashSessionOptions options,
        ILogger? logger = null,
        IFlashObserver? observer = null)
    {
        _logger = logger ?? Serilog.Core.Logger.None;
        _connection = new RomConnection(transport, _logger);
        _options = options;
        _observer = observer;
    }

    /// <summary>Bytes sent on the line so far (SLIP framing included).</summary>
    public long BytesSent => _connection.BytesSent;

    /// <summary>The detected chip, after <see cref="Connect"/>.</summary>
    public ChipDescriptor? Chip => _loader?.Chip;

    /// <summary>
    /// The flash size read from the chip's JEDEC ID (with <c>FlashSize</c> null: detect), e.g. "4MB".
    /// </summary>
    public string? DetectedFlashSize { get; private set; }

    /// <summary>Resets into the bootloader, syncs, detects the chip and changes the baud rate if asked.</summary>
    public void Connect(CancellationToken cancel = default) =>
        _loader = LoaderConnector.Connect(_connection, _options.Connection, _logger, _observer, cancel);

    /// <summary>
    /// Connects, erases the whole flash if asked, writes every region that is not already in flash, verifies each,
    /// checks that the flash around them is unchanged, and resets as asked.
    /// </summary>
    public void FlashAll(IReadOnlyList<FlashRegion> regions, CancellationToken cancel = default)
    {
        Connect(cancel);
        var loader = _loader!;
        CheckImagesAreFor(loader.Chip, regions);
        var flashSize = AttachFlash(loader);
        if (DetectedFlashSize is { } detected)
            regions = WithBootloaderSize(regions, loader.Chip, detected);
        var writer = new FlashWriter(loader, _options.BlockAttempts, _logger, _observer);
        if (_options.EraseAll)
            new FlashEraser(loader, _logger, _observer).Erase("flash", new FlashRange(0, flashSize), cancel);
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
        Finish();
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

    /// <summary>
    /// SPI_ATTACH, the flash size (detected from the JEDEC ID when the options give none), then SPI_SET_PARAMS: the
    /// ROM needs attach and params before flash writes (docs/esp32-rom-protocol.md §7).
    /// </summary>
    /// <returns>The flash size in bytes.</returns>
    private uint AttachFlash(RomLoader loader)
    {
        loader.Commands.AttachFlash();
        var size = _options.FlashSize ?? DetectFlashSize(loader);
        loader.Commands.SetFlashSize(size);
        return size;
    }

    private uint DetectFlashSize(RomLoader loader)
    {
        var jedec = loader.Registers.ReadFlashId(loader.Chip.Spi);
        var name = KnownChips.FlashSizeFromJedec(jedec) ?? throw new WsCoreException(FailureKind.Device,
            $"the flash chip's JEDEC ID 0x{jedec:X6} names no size this flasher knows",
            "give the size (e.g. 4MB) instead of detect")
        { Field = InputField.FlashSize };
        _logger.Information("Flash: JEDEC ID 0x{Id:X6}, {Size}", jedec, name);
        DetectedFlashSize = name;
        return FirmwareImage.ParseFlashSize(name)!.Value;
    }

    /// <summary>The bootloader's header says the flash size the chip has (as esptool's detect does).</summary>
    internal static IReadOnlyList<FlashRegion> WithBootloaderSize(
        IReadOnlyList<FlashRegion> regions, ChipDescriptor chip, string size) =>
        regions.Select(r => r.IsImage && r.Offset == chip.BootloaderOffset
            ? r with { Data = FirmwareImage.PatchFlashParams(r.Data, chip, "keep", size, "keep") }
            : r).ToList();

    /// <summary>
    /// Leaves the loader as asked: a hard reset via RTS, or nothing. No FLASH_END to the ROM: it would leave the
    /// loader, and a hard reset does that anyway (docs/esp32-rom-protocol.md §7).
    /// </summary>
    private void Finish()
    {
        if (_options.After == AfterReset.HardReset)
        {
            _observer?.OnEvent(new FlashEvent(FlashEventKind.Resetting, Message: "hard reset"));
            new HardReset().Reset(_connection.Transport);
        }
        _observer?.OnEvent(new FlashEvent(FlashEventKind.Done));
    }
}
