using Serilog;
using WsCore.Chips;

namespace WsCore.Esp;

/// <summary>
/// Reaches the ROM loader (docs/esp32-rom-protocol.md §5 and §6): resets the chip into it, SYNCs, detects the chip
/// (GET_SECURITY_INFO, else the magic register), checks it is the one expected, stops the watchdogs of a chip on its
/// own USB port, and changes the baud rate if asked (back to the ROM's when the adapter or the link cannot hold the
/// new one). Nothing here writes to flash.
/// </summary>
public static class LoaderConnector
{
    /// <summary>The rate the ROM loader starts at, and stays at unless asked otherwise.</summary>
    public const int RomBaudRate = 115200;

    /// <summary>
    /// The rate flashing runs at on a serial port unless told otherwise: esptool's and idf.py's 460800, which every
    /// common USB adapter (CP210x, CH340, FTDI, Espressif's USB-Serial/JTAG) holds; where one does not, the session
    /// falls back to <see cref="RomBaudRate"/> by itself.
    /// </summary>
    public const int FastBaudRate = 460800;

    /// <summary>SYNC requests sent after each reset before the next reset is tried (esptool's 5).</summary>
    private const int SyncTriesPerReset = 5;

    /// <summary>The ROM answers one SYNC this many times (esptool reads and drops the extra ones).</summary>
    private const int SyncAnswers = 8;

    /// <summary>Resets into the loader, syncs, detects the chip and changes the baud rate if asked.</summary>
    /// <param name="connection">The exchange with the loader.</param>
    /// <param name="options">How to reach it.</param>
    /// <param name="logger">Where the steps are logged (default: nowhere).</param>
    /// <param name="observer">Told Connecting and Connected (with the chip's name), or null.</param>
    /// <param name="cancel">Stops between reset attempts.</param>
    /// <exception cref="WsCoreException">
    /// Device: no SYNC answer, an unknown chip, another chip than expected (field Chip), a command that failed, a link
    /// that garbles the new rate with no reset to bring the chip back (hint field Baud).
    /// </exception>
    public static RomLoader Connect(
        RomConnection connection,
        ConnectOptions options,
        ILogger? logger = null,
        IFlashObserver? observer = null,
        CancellationToken cancel = default)
    {
        logger ??= Serilog.Core.Logger.None;
        var transport = connection.Transport;
        if (transport is TcpSerialTransport && options.Before != BeforeReset.NoReset)
        {
            // No reset sequence reaches the chip without modem lines; esptool forces no-reset here too.
            logger.Debug("socket:// has no DTR/RTS lines: not resetting (as esptool)");
            options = options with { Before = BeforeReset.NoReset };
        }
        observer?.OnEvent(new FlashEvent(FlashEventKind.Connecting, Message: transport.Name));
        Sync(connection, options, logger, cancel);
        var commands = new RomCommandRunner(connection);
        var (chip, security) = DetectChip(commands, logger);
        if (options.ExpectedChip is { } expected && expected != chip)
            throw new WsCoreException(FailureKind.Device, $"{chip.Name} detected, but {expected.Name} was expected",
                $"connect the {expected.Name} board, or let the chip be detected")
            { Field = InputField.Chip, HintField = InputField.Chip };
        observer?.OnEvent(new FlashEvent(FlashEventKind.Connected, Message: chip.Name));
        var loader = new RomLoader(commands, chip) { SecurityInfo = security };
        if (options.UsbJtagSerial && chip.Watchdogs is { } watchdogs)
        {
            loader.Registers.DisableWatchdogs(watchdogs);
            logger.Debug("Watchdogs stopped (USB-Serial/JTAG)");
        }
        if (options.Baud is not { } baud || baud == RomBaudRate)
            return loader;
        switch (BaudRateSwitch.Switch(loader, baud, logger))
        {
            case BaudRateOutcome.Stranded when transport.CanControlLines && options.Before != BeforeReset.NoReset:
                // Only a reset brings the ROM back to its own rate: start again there.
                logger.Warning("the link does not hold {Baud} baud and the chip did not come back: resetting it " +
                    "to continue at {Rom} baud", baud, RomBaudRate);
                transport.SetBaudRate(RomBaudRate);
                return Connect(connection, options with { Baud = null }, logger, observer, cancel);
            case BaudRateOutcome.Stranded:
                throw new WsCoreException(FailureKind.Device,
                    $"the link does not hold {baud} baud, and the chip did not come back to {RomBaudRate}",
                    $"reset the board into download mode (hold BOOT, tap EN) and run again at {RomBaudRate} baud")
                { HintField = InputField.Baud };
            default:
                return loader;
        }
    }

    /// <summary>
    /// The ESP32 ROM derives the new divider from its own 8 MHz clock estimate, so esptool scales the rate it
    /// sends (targets/esp32.py l.418-446; docs/esp32-rom-protocol.md §6).
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

    private static void Sync(RomConnection connection, ConnectOptions options, ILogger logger, CancellationToken cancel)
    {
        var strategies = ResetSequences.For(options.Before, options.UsbJtagSerial, options.ConnectAttempts);
        var sync = RomPackets.Request(RomCommand.Sync, RomPackets.SyncPayload());
        foreach (var strategy in strategies)
        {
            cancel.ThrowIfCancellationRequested();
            logger.Debug("Connect attempt: reset {Strategy}", strategy.Name);
            strategy.Reset(connection.Transport);
            connection.DiscardInput();
            for (var attempt = 0; attempt < SyncTriesPerReset; attempt++)
            {
                connection.Send(sync);
                var reply = connection.ReadResponse(RomCommand.Sync, RomTimeouts.Sync);
                if (reply is null)
                    continue;
                // Read the other answers to this SYNC so they are not taken for later answers.
                for (var extra = 1; extra < SyncAnswers; extra++)
                    if (connection.ReadResponse(RomCommand.Sync, RomTimeouts.Sync) is null)
                        break;
                connection.DiscardInput();
                logger.Debug("SYNC answered (value 0x{Value:X8})", reply.Value.Value);
                return;
            }
        }
        throw new WsCoreException(
            FailureKind.Device,
            $"no answer to SYNC from {connection.Transport.Name}: the ESP32 is not in download mode",
            RomCommandRunner.DownloadModeHint);
    }

    /// <summary>
    /// The chip, from GET_SECURITY_INFO's chip id where the answer has one, else from the magic register; and the
    /// security information where the ROM gave it.
    /// </summary>
    private static (ChipDescriptor Chip, SecurityInfo? Security) DetectChip(RomCommandRunner commands, ILogger logger)
    {
        var connection = commands.Connection;
        SecurityInfo? security = null;
        try
        {
            var answer = connection.Command(
                RomCommand.GetSecurityInfo, RomPackets.Request(RomCommand.GetSecurityInfo, []), RomTimeouts.Default);
            // S3/C3 and later: 20 bytes (chip id at 12); S2: 12 bytes and no chip id; the status follows either.
            var length = RomResponse.PayloadLength(RomCommand.GetSecurityInfo, answer.Data.Length);
            security = SecurityInfo.Parse(answer.Data.AsSpan(0, length));
            if (security?.ChipId is { } id && KnownChips.BySecurityInfoChipId(id) is { } chip)
                return (chip, security);
        }
        catch (Exception e) when (e is RomUnsupportedCommandException or RomCommandException or RomTimeoutException
            or RomMalformedResponseException)
        {
            // esptool's detect_chip falls back the same way on every one of these (FatalError covers a timeout).
            logger.Debug("GET_SECURITY_INFO not available ({Reason}); reading the magic register", e.Message);
            connection.DiscardInput();
        }
        var magic = new RomRegisters(commands).Read(KnownChips.MagicRegister);
        var byMagic = KnownChips.ByMagic(magic) ?? throw new WsCoreException(FailureKind.Device,
            $"unknown chip (magic register 0x{magic:X8}); this flasher knows " +
            string.Join(", ", KnownChips.All.Select(c => c.Name)),
            "check with esptool chip-id which chip this is");
        return (byMagic, security);
    }
}
