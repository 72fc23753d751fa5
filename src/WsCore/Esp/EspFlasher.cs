using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using Serilog;
using WsCore.Chips;
using WsCore.Flashing;

namespace WsCore.Esp;

/// <summary>
/// Writes regions to an ESP32 through its ROM loader (no stub): connect (reset + SYNC), detect the chip, optional
/// baud change, SPI_ATTACH, SPI_SET_PARAMS, then per region the writes <see cref="WritePlanner"/> plans (compressed
/// where the ROM's inflate window cannot reach unrequested flash) and an MD5 check, and last a read-back of the flash
/// around the regions (esp32-rom-protocol.md §4).
/// </summary>
/// <remarks>One owner: not thread-safe. Throws <see cref="WsCoreException"/> at its edge.</remarks>
public sealed class EspFlasher
{
    private const string SyncHint = "hold BOOT and tap EN (reset), then try again; check the cable is a data cable";

    private readonly RomConnection _rom;
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
        _rom = new RomConnection(transport, _logger);
        if (transport is TcpSerialTransport && options.Before != BeforeReset.NoReset)
        {
            // No reset sequence reaches the chip without modem lines; esptool forces no-reset here too.
            _logger.Debug("socket:// has no DTR/RTS lines: not resetting (as esptool)");
            options = options with { Before = BeforeReset.NoReset };
        }
        _options = options;
        _observer = observer;
    }

    /// <summary>Bytes sent on the line so far (SLIP framing included).</summary>
    public long BytesSent => _rom.BytesSent;

    /// <summary>The detected chip, after <see cref="Connect"/>.</summary>
    public ChipDescriptor? Chip { get; private set; }

    /// <summary>
    /// Connects, writes every region that is not already in flash, verifies each, checks that the flash around
    /// them is unchanged, and resets as asked.
    /// </summary>
    public void FlashAll(IReadOnlyList<FlashRegion> regions, CancellationToken cancel = default)
    {
        Connect(cancel);
        CheckImagesAreFor(Chip!, regions);
        PrepareFlash();
        if (DetectedFlashSize is { } detected)
            regions = WithBootloaderSize(regions, detected);
        var toWrite = new List<FlashRegion>(regions.Count);
        foreach (var region in regions)
        {
            cancel.ThrowIfCancellationRequested();
            if (!AlreadyInFlash(region))
                toWrite.Add(region);
        }
        // Regions skipped above are not rewritten, so no spill may be planned into them: plan only what is written.
        var flashSize = _options.FlashSize ?? Flashing.FirmwareImage.ParseFlashSize(DetectedFlashSize!)!.Value;
        var guards = WritePlanner.GuardRanges(toWrite, flashSize, GuardNeighbourhood);
        var before = guards.Select(ReadMd5).ToList();
        foreach (var write in WritePlanner.Plan(toWrite, Chip!.DeflateSpillWindow, data => Compress(data)))
        {
            cancel.ThrowIfCancellationRequested();
            WriteRegion(write, cancel);
        }
        CheckUnchanged(guards, before);
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
            if (Flashing.FirmwareImage.ChipId(region.Data) is not { } id || id == chip.ImageChipId)
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

    /// <summary>Bytes on each side of a written region that must read back unchanged: one ROM inflate window.</summary>
    public const int GuardNeighbourhood = 32 * 1024;

    /// <summary>Resets into the bootloader, syncs, detects the chip and changes the baud rate if asked.</summary>
    public void Connect(CancellationToken cancel = default)
    {
        _observer?.OnEvent(new FlashEvent(FlashEventKind.Connecting, Message: _rom.Transport.Name));
        Sync(cancel);
        Chip = DetectChip();
        if (_options.ExpectedChip is { } expected && expected != Chip)
            throw new WsCoreException(FailureKind.Device, $"{Chip.Name} detected, but {expected.Name} was expected",
                $"connect the {expected.Name} board, or let the chip be detected")
            { Field = InputField.Chip, HintField = InputField.Chip };
        if (!Chip.Supported)
            throw new WsCoreException(FailureKind.Device, $"{Chip.Name} detected; this flasher does not write to it",
                "use esptool or idf.py flash for this chip");
        _observer?.OnEvent(new FlashEvent(FlashEventKind.Connected, Message: Chip.Name));
        if (_options.UsbJtagSerial && Chip.Watchdogs is { } watchdogs)
            DisableWatchdogs(watchdogs);
        if (_options.Baud is { } baud && baud != 115200)
            ChangeBaud(baud);
    }

    /// <summary>
    /// The flash size read from the chip's JEDEC ID (with <c>FlashSize</c> null: detect), e.g. "4MB".
    /// </summary>
    public string? DetectedFlashSize { get; private set; }

    /// <summary>
    /// SPI_ATTACH, the flash size (detected from the JEDEC ID when asked), then SPI_SET_PARAMS: attach and params
    /// are required by the ROM before flash writes (§4 steps 5-7).
    /// </summary>
    public void PrepareFlash()
    {
        Run(RomCommand.SpiAttach, RomPackets.Request(RomCommand.SpiAttach, RomPackets.SpiAttachPayload(0, rom: true)));
        var size = _options.FlashSize ?? DetectFlashSize();
        Run(RomCommand.SpiSetParams, RomPackets.Request(RomCommand.SpiSetParams, RomPackets.SpiSetParamsPayload(size)));
    }

    private uint DetectFlashSize()
    {
        var jedec = ReadFlashId();
        var name = KnownChips.FlashSizeFromJedec(jedec) ?? throw new WsCoreException(FailureKind.Device,
            $"the flash chip's JEDEC ID 0x{jedec:X6} names no size this flasher knows",
            "give the size (e.g. 4MB) instead of detect")
        { Field = InputField.FlashSize };
        _logger.Information("Flash: JEDEC ID 0x{Id:X6}, {Size}", jedec, name);
        DetectedFlashSize = name;
        return Flashing.FirmwareImage.ParseFlashSize(name)!.Value;
    }

    /// <summary>
    /// Reads the flash chip's JEDEC ID (command 0x9F, 24 bits) through the SPI controller's user-command registers,
    /// as esptool's <c>run_spiflash_command</c> does: the ROM loader has no command of its own for it.
    /// </summary>
    public uint ReadFlashId()
    {
        var spi = Chip?.Spi
            ?? throw new WsCoreException(
                FailureKind.Device,
                $"reading the flash ID of {Chip?.Name ?? "this chip"} is not supported",
                "give the flash size (e.g. 4MB) instead of detect");
        const uint usrCommand = 1u << 31, usrMiso = 1u << 28, cmdUsr = 1u << 18, rdid = 0x9F;
        var cmd = spi.Base;
        var usr = spi.Base + spi.UsrOffset;
        var usr2 = spi.Base + spi.Usr2Offset;
        var oldUsr = ReadRegister(usr);
        var oldUsr2 = ReadRegister(usr2);
        WriteRegister(spi.Base + spi.MisoDlenOffset, 24 - 1);
        WriteRegister(usr, usrCommand | usrMiso);
        WriteRegister(usr2, (7u << 28) | rdid); // command length 8 bits, command 0x9F
        WriteRegister(spi.Base + spi.W0Offset, 0);
        WriteRegister(cmd, cmdUsr);
        var done = false;
        for (var i = 0; i < 10 && !done; i++)
            done = (ReadRegister(cmd) & cmdUsr) == 0;
        if (!done)
            throw new WsCoreException(FailureKind.Device, "the SPI flash command did not complete", SyncHint);
        var id = ReadRegister(spi.Base + spi.W0Offset) & 0xFFFFFF;
        WriteRegister(usr, oldUsr);
        WriteRegister(usr2, oldUsr2);
        return id;
    }

    /// <summary>The bootloader's header says the flash size the chip has (as esptool's detect does).</summary>
    private IReadOnlyList<FlashRegion> WithBootloaderSize(IReadOnlyList<FlashRegion> regions, string size) =>
        regions.Select(r => r.IsImage && r.Offset == Chip!.BootloaderOffset
            ? r with { Data = Flashing.FirmwareImage.PatchFlashParams(r.Data, Chip, "keep", size, "keep") }
            : r).ToList();

    /// <summary>WRITE_REG: value at address, whole word, no delay.</summary>
    public void WriteRegister(uint address, uint value) =>
        Run(
            RomCommand.WriteReg,
            RomPackets.Request(RomCommand.WriteReg, RomPackets.Words(address, value, 0xFFFFFFFF, 0)));

    /// <summary>
    /// Through its own USB-Serial/JTAG port, a C3 or S3 keeps its RTC watchdog and super watchdog running in the
    /// loader, and they reset it mid-write: stop the one, let the other feed itself (esptool disable_watchdogs).
    /// </summary>
    private void DisableWatchdogs(WatchdogRegisters watchdogs)
    {
        WriteRegister(watchdogs.WdtProtect, WatchdogRegisters.WdtKey);
        WriteRegister(watchdogs.WdtConfig0, 0);
        WriteRegister(watchdogs.WdtProtect, 0);
        WriteRegister(watchdogs.SwdProtect, WatchdogRegisters.SwdKey);
        WriteRegister(watchdogs.SwdConf, ReadRegister(watchdogs.SwdConf) | WatchdogRegisters.SwdAutoFeed);
        WriteRegister(watchdogs.SwdProtect, 0);
        _logger.Debug("Watchdogs stopped (USB-Serial/JTAG)");
    }

    /// <summary>
    /// Whether a region is already in flash. Checking costs a request; for a small region writing costs about as
    /// much, so only larger regions are checked (and skipped, as espflash does).
    /// </summary>
    private bool AlreadyInFlash(FlashRegion region)
    {
        var image = FlashRegion.PadTo4(region.Data);
        if (image.Length <= CheckFirstThreshold)
            return false;
        var expected = Convert.ToHexStringLower(MD5.HashData(image));
        if (ReadMd5(new FlashRange(region.Offset, region.Offset + image.Length)) != expected)
            return false;
        _observer?.OnEvent(new FlashEvent(
            FlashEventKind.RegionSkipped, region, image.Length, image.Length, region.ShownMd5(expected)));
        return true;
    }

    /// <summary>
    /// Writes one region as planned, verifies it with SPI_FLASH_MD5, and writes it again once on a mismatch or a
    /// block that keeps failing.
    /// </summary>
    private void WriteRegion(RegionWrite write, CancellationToken cancel)
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
                var actual = ReadMd5(whole);
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
                if (attempt >= 2)
                    throw new WsCoreException(FailureKind.VerificationFailed,
                        $"verification failed for {region.Name} at 0x{region.Offset:X}: the flash MD5 is " +
                            $"{region.ShownMd5(actual)}, expected {region.ShownMd5(expected)}",
                        "the flash may be worn or the connection noisy: try a shorter cable, a lower baud rate, and " +
                            "run again");
            }
            catch (BlockFailedException e)
            {
                reason = e.Message;
                if (attempt >= 2)
                    throw new WsCoreException(FailureKind.Device,
                        $"writing {region.Name} at 0x{region.Offset:X} failed: {e.Message}",
                        "the board stopped answering or the line is noisy: check the cable, try the default baud " +
                            "rate, and run again", e);
            }
            _logger.Warning("Retrying {Region} at 0x{Offset:X}: {Reason}", region.Name, region.Offset, reason);
            _observer?.OnEvent(new FlashEvent(FlashEventKind.Retrying, region, 0, write.Image.Length, reason));
            _rom.Drain(TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>
    /// Fails the run when flash that no region asked for reads back different from before it (exit 11): the
    /// regions themselves verified, but the device holds something else than it did next to them.
    /// </summary>
    private void CheckUnchanged(IReadOnlyList<FlashRange> guards, IReadOnlyList<string> before)
    {
        for (var i = 0; i < guards.Count; i++)
        {
            var after = ReadMd5(guards[i]);
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
    /// Leaves the loader as asked: a hard reset via RTS, or nothing. No FLASH_END to the ROM (§4 step 9).
    /// </summary>
    public void Finish()
    {
        if (_options.After == AfterReset.HardReset)
        {
            _observer?.OnEvent(new FlashEvent(FlashEventKind.Resetting, Message: "hard reset"));
            new HardReset().Reset(_rom.Transport);
        }
        _observer?.OnEvent(new FlashEvent(FlashEventKind.Done));
    }

    private void Sync(CancellationToken cancel)
    {
        var strategies = ResetSequences.For(_options.Before, _options.UsbJtagSerial, _options.ConnectAttempts);
        var sync = RomPackets.Request(RomCommand.Sync, RomPackets.SyncPayload());
        foreach (var strategy in strategies)
        {
            cancel.ThrowIfCancellationRequested();
            _logger.Debug("Connect attempt: reset {Strategy}", strategy.Name);
            strategy.Reset(_rom.Transport);
            _rom.DiscardInput();
            for (var attempt = 0; attempt < 5; attempt++)
            {
                _rom.Send(sync);
                var reply = _rom.ReadResponse(RomCommand.Sync, RomTimeouts.Sync);
                if (reply is null)
                    continue;
                // The ROM answers SYNC 8 times: read the other 7 so they are not taken for later answers (§4 step 1).
                for (var extra = 0; extra < 7; extra++)
                    if (_rom.ReadResponse(RomCommand.Sync, RomTimeouts.Sync) is null)
                        break;
                _rom.DiscardInput();
                _logger.Debug("SYNC answered (value 0x{Value:X8})", reply.Value.Value);
                return;
            }
        }
        throw new WsCoreException(
            FailureKind.Device,
            $"no answer to SYNC from {_rom.Transport.Name}: the ESP32 is not in download mode",
            SyncHint);
    }

    private ChipDescriptor DetectChip()
    {
        try
        {
            var info = _rom.Command(
                RomCommand.GetSecurityInfo, RomPackets.Request(RomCommand.GetSecurityInfo, []), RomTimeouts.Default);
            // S3/C3 and later: 20 bytes (chip id at 12) + status; S2: 12 bytes + status and no chip id.
            if (info.Data.Length >= 22
                && KnownChips.BySecurityInfoChipId(
                    BinaryPrimitives.ReadUInt32LittleEndian(info.Data.AsSpan(12))) is { } chip)
                return chip;
        }
        catch (Exception e) when (e is RomUnsupportedCommandException or RomCommandException or RomTimeoutException
            or RomMalformedResponseException)
        {
            // esptool's detect_chip falls back the same way on every one of these (FatalError covers a timeout).
            _logger.Debug("GET_SECURITY_INFO not available ({Reason}); reading the magic register", e.Message);
            _rom.DiscardInput();
        }
        var magic = ReadRegister(KnownChips.MagicRegister);
        return KnownChips.ByMagic(magic) ?? throw new WsCoreException(FailureKind.Device,
            $"unknown chip (magic register 0x{magic:X8}); this flasher knows " +
            string.Join(", ", KnownChips.All.Select(c => c.Name)),
            "check with esptool chip-id which chip this is");
    }

    /// <summary>READ_REG: the value comes in the response's value field.</summary>
    public uint ReadRegister(uint address) =>
        Run(RomCommand.ReadReg, RomPackets.Request(RomCommand.ReadReg, RomPackets.Words(address))).Value;

    /// <summary>
    /// The ESP32 ROM derives the new divider from its own 8 MHz clock estimate, so esptool scales the rate it
    /// sends (targets/esp32.py l.418-446; esp32-rom-protocol.md §6).
    /// </summary>
    public static uint CorrectedBaud(int baud, uint rtcCaliRegister, uint efuseBlk0Word4)
    {
        var cali = (rtcCaliRegister >> 7) & 0x1FFFFFF;
        var ck8m = efuseBlk0Word4 & 0xFF;
        var romFreq = cali * 15625.0 * ck8m / 40;
        if (romFreq <= 0)
            return (uint)baud; // no calibration data: the ROM uses the nominal clock
        return (uint)Math.Floor(baud * romFreq / (romFreq > 33e6 ? 40e6 : 26e6));
    }

    private void ChangeBaud(int baud)
    {
        var sent = Chip!.ScalesBaudRate
            ? CorrectedBaud(baud, ReadRegister(0x3FF5F06C), ReadRegister(0x3FF5A010))
            : (uint)baud;
        // Old baud 0: the ROM (unlike the stub) ignores it; the answer comes at the old rate.
        Run(RomCommand.ChangeBaudrate, RomPackets.Request(RomCommand.ChangeBaudrate, RomPackets.Words(sent, 0)));
        _rom.Transport.SetBaudRate(baud);
        Thread.Sleep(50);
        _rom.DiscardInput();
        _logger.Information("Changed baud rate to {Baud}", baud);
    }

    private string ReadMd5(FlashRange range)
    {
        var response = Run(
            RomCommand.SpiFlashMd5,
            RomPackets.Request(RomCommand.SpiFlashMd5, RomPackets.Words((uint)range.Start, (uint)range.Length, 0, 0)),
            RomTimeouts.Md5(range.Length),
            payloadLength: 32);
        // ROM: 32 ASCII hex characters; the stub would send 16 raw bytes (§3).
        return System.Text.Encoding.ASCII.GetString(response.Data, 0, 32).ToLowerInvariant();
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
                if (attempt >= _options.BlockAttempts)
                    throw new BlockFailedException($"{e.Message} ({attempt} starts)");
                _logger.Warning(
                    "{Region}: {Reason}; starting the compressed write at 0x{Offset:X} again",
                    region.Name,
                    e.Message,
                    piece.Offset);
                _observer?.OnEvent(new FlashEvent(
                    FlashEventKind.Retrying, region, 0, regionTotal, $"{e.Message}; writing 0x{piece.Offset:X} again"));
                _rom.Drain(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    private void WritePieceOnce(FlashRegion region, WritePiece piece, int regionTotal, CancellationToken cancel)
    {
        var deflate = piece.IsCompressed;
        var payload = deflate ? piece.Compressed! : piece.Data.AsSpan(0, piece.SentLength).ToArray();
        var blocks = (payload.Length + RomPackets.FlashBlockSize - 1) / RomPackets.FlashBlockSize;
        // ROM: erase size rounded up to whole blocks for DEFL; exact length for plain writes (§3). A plain piece
        // may send fewer blocks than it erases: the trailing 0xFF is what the erase leaves.
        var eraseSize = deflate
            ? (uint)((piece.Data.Length + RomPackets.FlashBlockSize - 1) / RomPackets.FlashBlockSize
                * RomPackets.FlashBlockSize)
            : piece.EraseSize;
        var words = new List<uint> { eraseSize, (uint)blocks, RomPackets.FlashBlockSize, piece.Offset };
        if (Chip is { FlashBeginWords: 5 })
            words.Add(0); // not encrypted; the ESP32 ROM takes exactly 4 words
        var begin = deflate ? RomCommand.FlashDeflBegin : RomCommand.FlashBegin;
        var data = deflate ? RomCommand.FlashDeflData : RomCommand.FlashData;
        _logger.Debug("{Region}: {Begin} at 0x{Offset:X}, {Length} bytes in {Blocks} blocks, erasing {Erase}",
            region.Name, begin, piece.Offset, piece.Data.Length, blocks, eraseSize);
        try
        {
            Run(begin, RomPackets.Request(begin, RomPackets.Words([.. words])), RomTimeouts.Erase(eraseSize));
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
                _rom.Command(command, packet, timeout);
                return;
            }
            catch (Exception e) when (deflate && e is RomTimeoutException or RomMalformedResponseException)
            {
                throw new PieceRestartException($"block {sequence}: {e.Message}");
            }
            catch (Exception e) when (e is RomCommandException or RomTimeoutException or RomMalformedResponseException
                or RomUnsupportedCommandException)
            {
                if (attempt >= _options.BlockAttempts)
                    throw new BlockFailedException($"block {sequence}: {e.Message} ({attempt} tries)");
                _logger.Warning("Block {Sequence}: {Reason}; sending it again", sequence, e.Message);
                _rom.Drain(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    private RomResponse Run(RomCommand command, byte[] packet, TimeSpan? timeout = null, int payloadLength = 0)
    {
        try
        {
            return _rom.Command(command, packet, timeout ?? RomTimeouts.Default, payloadLength);
        }
        catch (RomCommandException e)
        {
            throw new WsCoreException(FailureKind.Device, $"the ESP32 refused {command}: {RomErrors.Describe(e.Error)}",
                "reset the board into download mode (hold BOOT, tap EN) and run again", e);
        }
        catch (RomTimeoutException e)
        {
            throw new WsCoreException(FailureKind.Device, $"the ESP32 stopped answering: {e.Message}",
                "check the cable and that nothing else uses the port; then " + SyncHint, e);
        }
        catch (RomMalformedResponseException e)
        {
            throw new WsCoreException(FailureKind.Device, $"the ESP32's answer to {command} was garbled on the line",
                "check the cable (a shorter one helps), try the default baud rate, and run again", e);
        }
        catch (RomUnsupportedCommandException e)
        {
            throw new WsCoreException(FailureKind.Device, $"the loader does not support {command}", null, e);
        }
    }

    /// <summary>Regions of at most this many bytes are written without an MD5 check first.</summary>
    private const int CheckFirstThreshold = 16 * RomPackets.FlashBlockSize;

    /// <summary>
    /// A zlib stream of <paramref name="image"/> that costs the fewest bytes on the line, compared by SLIP-escaped
    /// size: the system zlib's <c>compress2</c> at level 9 (exactly what esptool sends, so wsctl never sends more),
    /// and zlib-ng (.NET's ZLibStream) at level 9 with the default and the filtered strategy, which is sometimes a
    /// few hundred bytes smaller.
    /// </summary>
    public static byte[] Compress(ReadOnlySpan<byte> image)
    {
        byte[]? best = null;
        long bestCost = long.MaxValue;
        if (SystemZlib.TryCompress(image, 9, out var likeEsptool))
            Consider(likeEsptool);
        foreach (var strategy in new[] { ZLibCompressionStrategy.Default, ZLibCompressionStrategy.Filtered })
        {
            using var output = new MemoryStream();
            using (var zlib = new ZLibStream(
                output,
                new ZLibCompressionOptions { CompressionLevel = 9, CompressionStrategy = strategy },
                leaveOpen: true))
                zlib.Write(image);
            Consider(output.ToArray());
        }
        return best!;

        void Consider(byte[] candidate)
        {
            var cost = WireCost(candidate);
            if (cost < bestCost)
            {
                best = candidate;
                bestCost = cost;
            }
        }
    }

    /// <summary>
    /// Payload bytes on the line once split into blocks and SLIP-escaped (headers are the same for all).
    /// </summary>
    private static long WireCost(ReadOnlySpan<byte> payload)
    {
        long cost = payload.Length;
        foreach (var b in payload)
            if (b is Slip.End or Slip.Esc)
                cost++;
        return cost;
    }

    private sealed class BlockFailedException(string message) : Exception(message);

    private sealed class PieceRestartException(string message) : Exception(message);
}
