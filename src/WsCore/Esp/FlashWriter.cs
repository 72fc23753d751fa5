using System.Security.Cryptography;
using Serilog;
using WsCore.Flashing;

namespace WsCore.Esp;

/// <summary>
/// Writes planned regions through a connected ROM loader and proves them (docs/esp32-rom-protocol.md §7 and §8): a
/// region already in flash is skipped; each piece is FLASH_BEGIN (or FLASH_DEFL_BEGIN) and its blocks, a refused
/// block sent again, a compressed piece whose answer is lost started again; each region is checked with
/// SPI_FLASH_MD5 and written once more on a mismatch; the flash next to the regions is read before and after and must
/// not change.
/// </summary>
/// <remarks>One owner: not thread-safe. Throws <see cref="WsCoreException"/> at its edge.</remarks>
public sealed class FlashWriter
{
    /// <summary>Regions of at most this many bytes are written without an MD5 check first.</summary>
    public const int CheckFirstThreshold = 16 * RomPackets.FlashBlockSize;

    /// <summary>Writes of one region (the first and one more) before it is given up.</summary>
    private const int RegionAttempts = 2;

    private readonly RomLoader _loader;
    private readonly int _blockAttempts;
    private readonly ILogger _logger;
    private readonly IFlashObserver? _observer;

    /// <summary>A writer through <paramref name="loader"/>.</summary>
    /// <param name="loader">The connected loader; its flash attached and sized (SPI_ATTACH, SPI_SET_PARAMS).</param>
    /// <param name="blockAttempts">Tries per data block, and starts per compressed piece.</param>
    /// <param name="logger">Where retries are logged (default: nowhere).</param>
    /// <param name="observer">Told of each region's start, progress, retries, skip and verification, or null.</param>
    public FlashWriter(RomLoader loader, int blockAttempts, ILogger? logger = null, IFlashObserver? observer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockAttempts, 1);
        _loader = loader;
        _blockAttempts = blockAttempts;
        _logger = logger ?? Serilog.Core.Logger.None;
        _observer = observer;
    }

    /// <summary>
    /// Whether a region is already in flash. Checking costs a request; for a small region writing costs about as
    /// much, so only regions over <see cref="CheckFirstThreshold"/> are checked (and skipped, as espflash does).
    /// </summary>
    public bool AlreadyInFlash(FlashRegion region)
    {
        var image = FlashRegion.PadTo4(region.Data);
        if (image.Length <= CheckFirstThreshold)
            return false;
        var expected = Convert.ToHexStringLower(MD5.HashData(image));
        if (_loader.Commands.FlashMd5(new FlashRange(region.Offset, region.Offset + image.Length)) != expected)
            return false;
        _observer?.OnEvent(new FlashEvent(
            FlashEventKind.RegionSkipped, region, image.Length, image.Length, region.ShownMd5(expected)));
        return true;
    }

    /// <summary>The MD5 of each range as the flash holds it now: read before the writes, compared after them.</summary>
    public IReadOnlyList<string> ReadChecksums(IReadOnlyList<FlashRange> ranges) =>
        ranges.Select(_loader.Commands.FlashMd5).ToList();

    /// <summary>
    /// Fails the run when flash that no region asked for reads back different from before it (exit 11): the
    /// regions themselves verified, but the device holds something else than it did next to them.
    /// </summary>
    /// <param name="guards">The ranges that must not change (<see cref="WritePlanner.GuardRanges"/>).</param>
    /// <param name="before">Their <see cref="ReadChecksums"/> from before the writes.</param>
    public void CheckUnchanged(IReadOnlyList<FlashRange> guards, IReadOnlyList<string> before)
    {
        for (var i = 0; i < guards.Count; i++)
        {
            var after = _loader.Commands.FlashMd5(guards[i]);
            if (after == before[i])
                continue;
            _logger.Error(
                "Flash at {Range} changed (md5 {Before} before, {After} after)",
                guards[i].ToString(),
                before[i],
                after);
            throw new WsCoreException(FailureKind.VerificationFailed,
                $"flash outside the written regions changed at {guards[i]} (md5 {before[i]} before, {after} after)",
                "the written regions verified, but data next to them did not survive; this is a wsctl bug (please " +
                "report it with the verbose log): write the partition that lives there again, e.g. the app's firmware")
            { HintField = InputField.Firmware };
        }
        _logger.Debug("{Count} neighbouring ranges read back unchanged", guards.Count);
    }

    /// <summary>
    /// Writes one region as planned, verifies it with SPI_FLASH_MD5, and writes it again once on a mismatch or a
    /// block that keeps failing.
    /// </summary>
    public void Write(RegionWrite write, CancellationToken cancel = default)
    {
        var region = write.Region;
        var expected = Convert.ToHexStringLower(MD5.HashData(write.Image));
        var whole = new FlashRange(region.Offset, region.Offset + write.Image.Length);
        for (var attempt = 1; ; attempt++)
        {
            string reason;
            try
            {
                WriteOnce(write, cancel);
                var actual = _loader.Commands.FlashMd5(whole);
                if (actual == expected)
                {
                    _observer?.OnEvent(new FlashEvent(
                        FlashEventKind.RegionVerified,
                        region,
                        write.Image.Length,
                        write.Image.Length,
                        region.ShownMd5(expected)));
                    return;
                }
                reason = $"MD5 mismatch at 0x{region.Offset:X} (flash {region.ShownMd5(actual)}, expected " +
                    $"{region.ShownMd5(expected)})";
                if (attempt >= RegionAttempts)
                    throw new WsCoreException(FailureKind.VerificationFailed,
                        $"verification failed for {region.Name} at 0x{region.Offset:X}: the flash MD5 is " +
                            $"{region.ShownMd5(actual)}, expected {region.ShownMd5(expected)}",
                        "the flash may be worn or the connection noisy: try a shorter cable, a lower baud rate, and " +
                            "run again");
            }
            catch (BlockFailedException e)
            {
                reason = e.Message;
                if (attempt >= RegionAttempts)
                    throw new WsCoreException(FailureKind.Device,
                        $"writing {region.Name} at 0x{region.Offset:X} failed: {e.Message}",
                        "the board stopped answering or the line is noisy: check the cable, try the default baud " +
                            "rate, and run again", e);
            }
            _logger.Warning("Retrying {Region} at 0x{Offset:X}: {Reason}", region.Name, region.Offset, reason);
            _observer?.OnEvent(new FlashEvent(FlashEventKind.Retrying, region, 0, write.Image.Length, reason));
            _loader.Connection.Drain(TimeSpan.FromMilliseconds(200));
        }
    }

    private void WriteOnce(RegionWrite write, CancellationToken cancel)
    {
        var region = write.Region;
        var total = write.Image.Length;
        var compressedBytes = write.Pieces.Sum(p => p.Compressed?.Length ?? 0);
        var plainBytes = write.Pieces.Where(p => !p.IsCompressed).Sum(p => p.SentLength);
        _observer?.OnEvent(new FlashEvent(FlashEventKind.RegionStarted, region, 0, total,
            plainBytes == 0 ? $"{compressedBytes} bytes compressed"
            : compressedBytes == 0 ? "uncompressed"
            : $"{compressedBytes} bytes compressed, {plainBytes} plain"));
        foreach (var piece in write.Pieces)
            WritePiece(region, piece, total, cancel);
    }

    /// <summary>
    /// Writes one piece, starting it again from its FLASH_DEFL_BEGIN when a compressed block's answer is lost: the
    /// ROM's inflater may already have taken that block, and then cannot take it again ("deflate error" on every
    /// later block), whereas a new BEGIN resets the inflater and erases the piece again.
    /// </summary>
    private void WritePiece(FlashRegion region, WritePiece piece, int regionTotal, CancellationToken cancel)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                WritePieceOnce(region, piece, regionTotal, cancel);
                return;
            }
            catch (PieceRestartException e)
            {
                if (attempt >= _blockAttempts)
                    throw new BlockFailedException($"{e.Message} ({attempt} starts)");
                _logger.Warning(
                    "{Region}: {Reason}; starting the compressed write at 0x{Offset:X} again",
                    region.Name,
                    e.Message,
                    piece.Offset);
                _observer?.OnEvent(new FlashEvent(
                    FlashEventKind.Retrying, region, 0, regionTotal, $"{e.Message}; writing 0x{piece.Offset:X} again"));
                _loader.Connection.Drain(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    private void WritePieceOnce(FlashRegion region, WritePiece piece, int regionTotal, CancellationToken cancel)
    {
        var deflate = piece.IsCompressed;
        var payload = deflate ? piece.Compressed! : piece.Data.AsSpan(0, piece.SentLength).ToArray();
        var blocks = (payload.Length + RomPackets.FlashBlockSize - 1) / RomPackets.FlashBlockSize;
        // The ROM's erase size: rounded up to whole blocks for DEFL, the exact length for plain writes
        // (docs/esp32-rom-protocol.md §4). A plain piece may send fewer blocks than it erases: the trailing 0xFF is
        // what the erase leaves.
        var eraseSize = deflate
            ? (uint)((piece.Data.Length + RomPackets.FlashBlockSize - 1) / RomPackets.FlashBlockSize
                * RomPackets.FlashBlockSize)
            : piece.EraseSize;
        var words = new List<uint> { eraseSize, (uint)blocks, RomPackets.FlashBlockSize, piece.Offset };
        if (_loader.Chip.FlashBeginWords == 5)
            words.Add(0); // not encrypted; the ESP32 ROM takes exactly 4 words
        var begin = deflate ? RomCommand.FlashDeflBegin : RomCommand.FlashBegin;
        var data = deflate ? RomCommand.FlashDeflData : RomCommand.FlashData;
        _logger.Debug("{Region}: {Begin} at 0x{Offset:X}, {Length} bytes in {Blocks} blocks, erasing {Erase}",
            region.Name, begin, piece.Offset, piece.Data.Length, blocks, eraseSize);
        try
        {
            _loader.Commands.Run(begin, RomPackets.Words([.. words]), RomTimeouts.Erase(eraseSize));
        }
        catch (WsCoreException e) when (e.InnerException is RomCommandException or RomTimeoutException
            or RomMalformedResponseException)
        {
            throw new BlockFailedException($"{begin}: {e.InnerException!.Message}");
        }
        // A compressed block can inflate to far more than 0x400 bytes, all written before the ROM answers:
        // allow 16 times the average inflation (esptool sizes it from the block's inflated length).
        var blockTimeout = RomTimeouts.EraseWrite(deflate
            ? Math.Min(piece.Data.Length, 16L * piece.Data.Length / Math.Max(1, blocks))
            : RomPackets.FlashBlockSize);
        var pieceStart = piece.Offset - region.Offset;
        for (var seq = 0; seq < blocks; seq++)
        {
            cancel.ThrowIfCancellationRequested();
            var start = seq * RomPackets.FlashBlockSize;
            var length = Math.Min(RomPackets.FlashBlockSize, payload.Length - start);
            byte[] block;
            if (deflate)
                block = payload.AsSpan(start, length).ToArray(); // the last compressed chunk is not padded
            else
            {
                block = new byte[RomPackets.FlashBlockSize];
                block.AsSpan().Fill(0xFF);
                payload.AsSpan(start, length).CopyTo(block);
            }
            SendBlock(data, (uint)seq, block, blockTimeout, deflate);
            var pieceDone = deflate
                ? (long)piece.Data.Length * (seq + 1) / blocks
                : Math.Min(piece.Data.Length, start + length);
            _observer?.OnEvent(new FlashEvent(
                FlashEventKind.RegionProgress, region, Math.Min(regionTotal, pieceStart + pieceDone), regionTotal));
        }
    }

    /// <summary>
    /// Sends one data block. A block the loader refused (bad checksum, invalid message: it did not take it) is sent
    /// again. A compressed block whose answer is lost or garbled may have been taken: the piece starts again
    /// (<see cref="PieceRestartException"/>). A plain block carries its sequence number and is simply sent again.
    /// </summary>
    private void SendBlock(RomCommand command, uint sequence, byte[] block, TimeSpan timeout, bool deflate)
    {
        var packet = RomPackets.DataRequest(command, sequence, block);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _loader.Connection.Command(command, packet, timeout);
                return;
            }
            catch (Exception e) when (deflate && e is RomTimeoutException or RomMalformedResponseException)
            {
                throw new PieceRestartException($"block {sequence}: {e.Message}");
            }
            catch (Exception e) when (e is RomCommandException or RomTimeoutException or RomMalformedResponseException
                or RomUnsupportedCommandException)
            {
                if (attempt >= _blockAttempts)
                    throw new BlockFailedException($"block {sequence}: {e.Message} ({attempt} tries)");
                _logger.Warning("Block {Sequence}: {Reason}; sending it again", sequence, e.Message);
                _loader.Connection.Drain(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    /// <summary>A block or a piece that kept failing: the region is written once more, then given up.</summary>
    private sealed class BlockFailedException(string message) : Exception(message);

    /// <summary>A compressed block whose answer was lost: its piece starts again from FLASH_DEFL_BEGIN.</summary>
    private sealed class PieceRestartException(string message) : Exception(message);
}
