using System.Security.Cryptography;
using Serilog;
using WsCore.Flashing;

namespace WsCore.Esp;

/// <summary>
/// Erases flash through a connected ROM loader (docs/esp32-rom-protocol.md §12). The ROM has no erase command of its
/// own (ERASE_FLASH and ERASE_REGION are the stub's), but FLASH_BEGIN erases every sector of the range it announces
/// before the first block: a FLASH_BEGIN with no blocks is an erase. What was erased must then read back as 0xFF
/// (SPI_FLASH_MD5 of the range).
/// </summary>
/// <remarks>One owner: not thread-safe. Throws <see cref="WsCoreException"/> at its edge.</remarks>
public sealed class FlashEraser
{
    /// <summary>The flash's erase unit: the ROM erases whole 4 KiB sectors.</summary>
    public const int SectorSize = 0x1000;

    private readonly RomLoader _loader;
    private readonly ILogger _logger;
    private readonly IFlashObserver? _observer;

    /// <summary>An eraser through <paramref name="loader"/>, its flash attached and sized.</summary>
    public FlashEraser(RomLoader loader, ILogger? logger = null, IFlashObserver? observer = null)
    {
        _loader = loader;
        _logger = logger ?? Serilog.Core.Logger.None;
        _observer = observer;
    }

    /// <summary>The whole sectors <paramref name="range"/> touches: what the ROM would erase for it.</summary>
    public static FlashRange Sectors(FlashRange range) => new(
        range.Start / SectorSize * SectorSize, (range.End + SectorSize - 1) / SectorSize * SectorSize);

    /// <summary>
    /// Refuses a range that does not start and end on sector boundaries: erasing it would take the sectors' other
    /// bytes too. The hint gives the sectors it touches.
    /// </summary>
    /// <exception cref="WsCoreException">InvalidInput of <see cref="InputField.FlashRange"/>.</exception>
    public static void CheckAligned(FlashRange range)
    {
        if (range.Length > 0 && range.Start % SectorSize == 0 && range.End % SectorSize == 0)
            return;
        var sectors = Sectors(range);
        throw WsCoreException.Invalid(InputField.FlashRange,
            range.Length == 0 ? "nothing to erase: the size is 0"
                : $"0x{range.Start:X} + 0x{range.Length:X} is not whole 4 KiB sectors (the flash erases nothing " +
                    "smaller), so the bytes around it would be erased too",
            $"to erase the sectors it touches, give offset 0x{sectors.Start:X} and size 0x{sectors.Length:X}");
    }

    /// <summary>Erases <paramref name="range"/> (whole sectors) and checks it reads back as 0xFF.</summary>
    /// <exception cref="WsCoreException">
    /// InvalidInput: not whole sectors; Device: the loader refused; VerificationFailed: it does not read back erased.
    /// </exception>
    public void Erase(string name, FlashRange range, CancellationToken cancel = default)
    {
        CheckAligned(range);
        cancel.ThrowIfCancellationRequested();
        var region = new FlashRegion(name, (uint)range.Start, []);
        _observer?.OnEvent(new FlashEvent(FlashEventKind.EraseStarted, region, 0, range.Length));
        // FLASH_BEGIN: erase size, no blocks, the ROM's block size, offset (and "not encrypted" on later chips).
        List<uint> words = [(uint)range.Length, 0, RomPackets.FlashBlockSize, (uint)range.Start];
        if (_loader.Chip.FlashBeginWords == 5)
            words.Add(0);
        _logger.Debug("Erasing {Range} with FLASH_BEGIN (no blocks)", range.ToString());
        _loader.Commands.Run(RomCommand.FlashBegin, RomPackets.Words([.. words]), RomTimeouts.Erase(range.Length));
        var erased = new byte[range.Length];
        erased.AsSpan().Fill(0xFF);
        var expected = Convert.ToHexStringLower(MD5.HashData(erased));
        var actual = _loader.Commands.FlashMd5(range);
        if (actual != expected)
            throw new WsCoreException(FailureKind.VerificationFailed,
                $"{name} at {range} does not read back erased (md5 {actual}, erased flash is {expected})",
                "the flash may be worn or write-protected; run again, and check the board's flash");
        _observer?.OnEvent(new FlashEvent(FlashEventKind.RegionErased, region, range.Length, range.Length));
    }
}
