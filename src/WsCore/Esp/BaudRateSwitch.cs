using Serilog;
using WsCore.Chips;

namespace WsCore.Esp;

/// <summary>What became of a request to change the line's rate.</summary>
internal enum BaudRateOutcome
{
    /// <summary>Chip and host run at the new rate, and the link holds it.</summary>
    Switched,

    /// <summary>The adapter or the link could not hold the new rate; chip and host are back at the ROM's.</summary>
    FellBack,

    /// <summary>The link garbles the new rate and the chip could not be told to come back: a reset must.</summary>
    Stranded,
}

/// <summary>
/// Moves the ROM loader and the host to a faster rate after SYNC (CHANGE_BAUDRATE, docs/esp32-rom-protocol.md §4 and
/// §6) and proves the link holds it before anything depends on it. An adapter that refuses the rate, or a link that
/// garbles it (a long cable, a clone adapter whose clock is off), is not the user's error: the session goes back to
/// the ROM's 115200 and says so in one line, as a slower flash is better than a failed one.
/// </summary>
internal static class BaudRateSwitch
{
    // Exchanges at the new rate that must all come back right: about 450 bytes on the line in all.
    private const int SyncChecks = 2;
    private const int LinkChecks = 4;

    // The ROM answers each SYNC 8 times with this value (docs/esp32-rom-protocol.md §4).
    private const int SyncAnswers = 8;
    private const uint SyncValue = 0x20120707;

    // A READ_REG answer takes well under a millisecond at these rates; USB adapters add up to about 16 ms.
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromMilliseconds(300);

    // Tries at telling the chip, over the garbled rate, to go back to the ROM's.
    private const int ReturnAttempts = 4;

    // esptool waits 50 ms after changing the host's rate for the adapter to settle, then flushes what came.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(50);

    // The ESP32's RTC calibration register and eFuse BLK0 word 4: what its ROM's clock estimate comes from
    // (esptool targets/esp32.py, get_crystal_freq and change_baud).
    private const uint Esp32RtcCalibrationRegister = 0x3FF5F06C;
    private const uint Esp32EfuseBlock0Word4 = 0x3FF5A010;

    /// <summary>
    /// Changes chip and host to <paramref name="baud"/>, or leaves both at the ROM's rate when the adapter refuses it
    /// or the link does not hold it.
    /// </summary>
    public static BaudRateOutcome Switch(RomLoader loader, int baud, ILogger logger)
    {
        var transport = loader.Connection.Transport;
        var rom = LoaderConnector.RomBaudRate;
        // The adapter first: a rate it cannot do is found out before the chip is asked to change.
        try
        {
            transport.SetBaudRate(baud);
            transport.SetBaudRate(rom);
        }
        catch (WsCoreException e) when (e.Field == InputField.Baud)
        {
            transport.SetBaudRate(rom);
            logger.Warning("{Message}: staying at {Rom} baud", e.Message, rom);
            return BaudRateOutcome.FellBack;
        }
        // A register whose value is known, read at the rate that works, to check the new one against.
        var reference = loader.Registers.Read(KnownChips.MagicRegister);
        var (cali, efuse) = loader.Chip.ScalesBaudRate
            ? (loader.Registers.Read(Esp32RtcCalibrationRegister), loader.Registers.Read(Esp32EfuseBlock0Word4))
            : (0u, 0u);
        uint RateToSend(int rate) => loader.Chip.ScalesBaudRate
            ? LoaderConnector.CorrectedBaud(rate, cali, efuse)
            : (uint)rate;

        // Old rate 0: the ROM (unlike the stub) ignores it; the answer comes at the old rate.
        loader.Commands.Run(RomCommand.ChangeBaudrate, RomPackets.Words(RateToSend(baud), 0));
        SetHostRate(loader, baud);
        if (LinkHolds(loader, reference))
        {
            loader.BaudRate = baud;
            logger.Information("Changed baud rate to {Baud}", baud);
            return BaudRateOutcome.Switched;
        }
        // The chip listens at the new rate now. Each try tells it to go back, then listens at the ROM's rate: the
        // request may arrive whole while its answer does not, so the answer is not waited for.
        for (var attempt = 0; attempt < ReturnAttempts; attempt++)
        {
            SetHostRate(loader, baud);
            try
            {
                loader.Connection.Command(RomCommand.ChangeBaudrate,
                    RomPackets.Request(RomCommand.ChangeBaudrate, RomPackets.Words(RateToSend(rom), 0)), CheckTimeout);
            }
            catch (Exception e) when (IsLineFailure(e))
            {
            }
            SetHostRate(loader, rom);
            if (LinkHolds(loader, reference))
            {
                logger.Warning("the link does not hold {Baud} baud (answers came garbled or not at all): " +
                    "continuing at {Rom} baud", baud, rom);
                return BaudRateOutcome.FellBack;
            }
        }
        return BaudRateOutcome.Stranded;
    }

    private static void SetHostRate(RomLoader loader, int baud)
    {
        loader.Connection.Transport.SetBaudRate(baud);
        Thread.Sleep(Settle);
        loader.Connection.DiscardInput();
    }

    /// <summary>
    /// Whether the link carries the new rate: <see cref="SyncChecks"/> SYNC exchanges (a 36-byte pattern the ROM
    /// checks, and eight answers whose value is checked here) and <see cref="LinkChecks"/> reads of the magic
    /// register, all answered right. Every byte of these counts but the checksum field, so a link changing one byte in
    /// a few hundred fails them.
    /// </summary>
    private static bool LinkHolds(RomLoader loader, uint reference)
    {
        var connection = loader.Connection;
        var sync = RomPackets.Request(RomCommand.Sync, RomPackets.SyncPayload());
        var read = RomPackets.Request(RomCommand.ReadReg, RomPackets.Words(KnownChips.MagicRegister));
        try
        {
            for (var check = 0; check < SyncChecks; check++)
            {
                connection.Send(sync);
                for (var answer = 0; answer < SyncAnswers; answer++)
                    if (connection.ReadResponse(RomCommand.Sync, CheckTimeout) is not { Value: SyncValue })
                        return Failed();
            }
            for (var check = 0; check < LinkChecks; check++)
                if (connection.Command(RomCommand.ReadReg, read, CheckTimeout).Value != reference)
                    return Failed();
            return true;
        }
        catch (Exception e) when (IsLineFailure(e))
        {
            return Failed();
        }

        bool Failed()
        {
            // Garbage may still be arriving: let it, and drop it, so it is not taken for the next answer.
            connection.Drain(CheckTimeout);
            return false;
        }
    }

    // What a garbled line looks like to a command: a request or answer lost, cut, or changed.
    private static bool IsLineFailure(Exception e) => e is RomTimeoutException or RomMalformedResponseException
        or RomCommandException or RomUnsupportedCommandException;
}
