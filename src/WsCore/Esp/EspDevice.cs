using System.Security.Cryptography;
using Serilog;
using WsCore.Chips;
using WsCore.Flashing;

namespace WsCore.Esp;

/// <summary>
/// The device's toolbox through its ROM loader (docs/esp32-rom-protocol.md §12): connect, then read the chip's
/// information, read flash, read the partition table, erase ranges or the whole flash, compare regions with files;
/// then leave the loader as asked. Nothing here writes data to flash: <see cref="EspFlasher"/> does, on one of
/// these.
/// </summary>
/// <remarks>One owner: not thread-safe. Throws <see cref="WsCoreException"/> at its edge.</remarks>
public sealed class EspDevice
{
    private readonly RomConnection _connection;
    private readonly FlashSessionOptions _options;
    private readonly ILogger _logger;
    private readonly IFlashObserver? _observer;
    private RomLoader? _loader;
    private uint? _jedecId;

    /// <summary>A device on <paramref name="transport"/>; <see cref="Connect"/> reaches it.</summary>
    /// <param name="transport">The line to the loader.</param>
    /// <param name="options">How to connect and leave; <c>FlashSize</c> null reads it from the flash chip.</param>
    /// <param name="logger">Where the steps are logged (default: nowhere).</param>
    /// <param name="observer">Told of the connection, each read, erase and region checked, and the reset.</param>
    public EspDevice(
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

    /// <summary>The connected loader.</summary>
    public RomLoader Loader => _loader ?? throw new InvalidOperationException("not connected");

    /// <summary>The detected chip, once connected; else null.</summary>
    public ChipDescriptor? Chip => _loader?.Chip;

    /// <summary>Bytes sent on the line so far (SLIP framing included).</summary>
    public long BytesSent => _connection.BytesSent;

    /// <summary>The flash size in bytes: the one given, or the one the JEDEC ID names.</summary>
    public uint FlashSize { get; private set; }

    /// <summary>The flash size the JEDEC ID names (e.g. "4MB") when it was read from the chip; else null.</summary>
    public string? DetectedFlashSize { get; private set; }

    /// <summary>
    /// Resets into the loader, syncs, detects the chip and attaches its flash (<see cref="ConnectLoader"/>, then
    /// <see cref="AttachFlash"/>): what every operation below needs first.
    /// </summary>
    public void Connect(CancellationToken cancel = default)
    {
        ConnectLoader(cancel);
        AttachFlash();
    }

    /// <summary>Resets into the bootloader, syncs, detects the chip and changes the baud rate if asked.</summary>
    public void ConnectLoader(CancellationToken cancel = default) =>
        _loader = LoaderConnector.Connect(_connection, _options.Connection, _logger, _observer, cancel);

    /// <summary>
    /// SPI_ATTACH, the flash size (read from the flash chip's JEDEC ID unless given), then SPI_SET_PARAMS: the ROM
    /// needs attach and params before it reads, erases or writes flash (docs/esp32-rom-protocol.md §7).
    /// </summary>
    public void AttachFlash()
    {
        Loader.Commands.AttachFlash();
        if (_options.FlashSize is { } given)
            FlashSize = given;
        else
        {
            var jedec = ReadJedecId();
            var name = KnownChips.FlashSizeFromJedec(jedec) ?? throw new WsCoreException(FailureKind.Device,
                $"the flash chip's JEDEC ID 0x{jedec:X6} names no size this tool knows",
                "give the flash size (e.g. 4MB)")
            { HintField = InputField.FlashSize };
            FlashSize = FirmwareImage.ParseFlashSize(name)!.Value;
            DetectedFlashSize = name;
            _logger.Information("Flash: JEDEC ID 0x{Id:X6}, {Size}", jedec, name);
        }
        Loader.Commands.SetFlashSize(FlashSize);
    }

    /// <summary>
    /// The chip's information: its family, what its eFuses say (package, revision, features, MAC, crystal), its
    /// security state, and its flash chip's JEDEC ID and size.
    /// </summary>
    public DeviceInfo ReadInfo()
    {
        var loader = Loader;
        var facts = loader.Chip.Efuses.Read(loader.Registers.Read, loader.BaudRate);
        var jedec = ReadJedecId();
        return new DeviceInfo(loader.Chip, facts, loader.SecurityInfo, jedec, KnownChips.FlashSizeFromJedec(jedec));
    }

    /// <summary>Fails unless <paramref name="range"/> lies inside the flash.</summary>
    /// <exception cref="WsCoreException">InvalidInput of <see cref="InputField.FlashRange"/>.</exception>
    public void CheckInside(FlashRange range)
    {
        if (range.Start >= 0 && range.Length > 0 && range.End <= FlashSize)
            return;
        throw WsCoreException.Invalid(InputField.FlashRange,
            range.Length <= 0 ? "the size must be more than 0"
                : $"{range} is not inside the flash (0x{FlashSize:X} bytes, {FlashSize / (1024 * 1024)}MB)",
            $"the flash ends at 0x{FlashSize:X}");
    }

    /// <summary>Reads <paramref name="range"/>, checked against the flash's MD5 (<see cref="FlashReader"/>).</summary>
    public byte[] Read(string name, FlashRange range, CancellationToken cancel = default)
    {
        CheckInside(range);
        return new FlashReader(Loader, _logger, _observer).Read(name, range, cancel);
    }

    /// <summary>
    /// The partition table at <paramref name="offset"/>, read up to its MD5 entry (or its end), with that MD5
    /// checked against the entries.
    /// </summary>
    public PartitionTableImage ReadPartitionTable(uint offset = PartitionTable.DefaultOffset)
    {
        var bytes = new FlashReader(Loader, _logger).ReadUntil(
            offset, PartitionTable.MaxLength, read => PartitionTable.IsComplete(read));
        return PartitionTable.ParseImage(bytes);
    }

    /// <summary>The partition labelled <paramref name="label"/> in <paramref name="table"/>.</summary>
    /// <exception cref="WsCoreException">InvalidInput of <see cref="InputField.Partition"/>: there is none.</exception>
    public static Partition FindPartition(PartitionTableImage table, string label) =>
        table.Find(label) ?? throw WsCoreException.Invalid(InputField.Partition,
            table.Partitions.Count == 0
                ? $"no partition '{label}': the device has no partition table at 0x{PartitionTable.DefaultOffset:X}"
                : $"no partition '{label}' on the device",
            table.Partitions.Count == 0 ? "flash a build first"
                : "its partitions are " + string.Join(", ", table.Partitions.Select(p => p.Label)));

    /// <summary>Erases <paramref name="range"/> (whole sectors) and checks it reads back as 0xFF.</summary>
    public void Erase(string name, FlashRange range, CancellationToken cancel = default)
    {
        FlashEraser.CheckAligned(range);
        CheckInside(range);
        new FlashEraser(Loader, _logger, _observer).Erase(name, range, cancel);
    }

    /// <summary>Erases the whole flash and checks it reads back as 0xFF.</summary>
    public void EraseAll(CancellationToken cancel = default) =>
        new FlashEraser(Loader, _logger, _observer).Erase("flash", new FlashRange(0, FlashSize), cancel);

    /// <summary>
    /// Compares each region's MD5 on the chip with its data's (padded to whole words, as written), writing nothing;
    /// every region is reported, then the first that differs fails the run.
    /// </summary>
    /// <exception cref="WsCoreException">VerificationFailed naming the first region that differs.</exception>
    public void Verify(IReadOnlyList<FlashRegion> regions, CancellationToken cancel = default)
    {
        var loader = Loader;
        if (DetectedFlashSize is { } detected)
            regions = EspFlasher.WithBootloaderSize(regions, loader.Chip, detected);
        var differing = new List<(FlashRegion Region, string Chip, string File)>();
        foreach (var region in regions)
        {
            cancel.ThrowIfCancellationRequested();
            CheckInside(new FlashRange(region.Offset, region.End));
            var image = FlashRegion.PadTo4(region.Data);
            var expected = Convert.ToHexStringLower(MD5.HashData(image));
            var actual = loader.Commands.FlashMd5(new FlashRange(region.Offset, region.Offset + image.Length));
            var same = actual == expected;
            _observer?.OnEvent(new FlashEvent(
                same ? FlashEventKind.RegionVerified : FlashEventKind.RegionDiffers,
                region, image.Length, image.Length, region.ShownMd5(same ? expected : actual)));
            if (!same)
                differing.Add((region, region.ShownMd5(actual), region.ShownMd5(expected)));
        }
        if (differing.Count == 0)
            return;
        var (first, chip, file) = differing[0];
        throw new WsCoreException(FailureKind.VerificationFailed,
            $"{first.Name} at 0x{first.Offset:X} differs from the chip (md5 {chip} on the chip, {file} in the file)" +
                (differing.Count > 1 ? $"; {differing.Count} of {regions.Count} regions differ" : ""),
            "write the build to the board again")
        { HintField = InputField.Firmware };
    }

    /// <summary>
    /// Leaves the loader as asked: a hard reset via RTS (the app starts), or nothing (docs/esp32-rom-protocol.md §5).
    /// </summary>
    public void Finish()
    {
        if (_options.After == AfterReset.HardReset)
        {
            _observer?.OnEvent(new FlashEvent(FlashEventKind.Resetting, Message: "hard reset"));
            new HardReset().Reset(_connection.Transport);
        }
        _observer?.OnEvent(new FlashEvent(FlashEventKind.Done));
    }

    private uint ReadJedecId() => _jedecId ??= Loader.Registers.ReadFlashId(Loader.Chip.Spi);
}
