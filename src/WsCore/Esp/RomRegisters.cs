using WsCore.Chips;

namespace WsCore.Esp;

/// <summary>
/// The chip's registers through the ROM loader (READ_REG, WRITE_REG), and what wsctl does with them: run a command on
/// the SPI flash chip (its JEDEC ID) and stop the watchdogs that would reset a chip on its own USB port
/// (docs/esp32-rom-protocol.md §6 and §7). Failures are <see cref="WsCoreException"/>s, as
/// <see cref="RomCommandRunner"/> makes them.
/// </summary>
/// <remarks>One owner: not thread-safe.</remarks>
public sealed class RomRegisters(RomCommandRunner commands)
{
    // SPI_USR bits (ESP-IDF spi_reg.h / spi_mem_reg.h): the user command has a command phase and a MISO phase.
    private const uint UsrCommandPhase = 1u << 31;
    private const uint UsrMisoPhase = 1u << 28;
    // SPI_CMD's USR bit: set to start the user command; the controller clears it when the command is done.
    private const uint CmdUsr = 1u << 18;
    // The flash chip's "read identification" command (RDID, JEDEC JESD216): manufacturer, type, capacity.
    private const byte ReadJedecId = 0x9F;
    // esptool reads SPI_CMD this many times before it gives up on a user command.
    private const int CompletionPolls = 10;

    /// <summary>READ_REG: the word at <paramref name="address"/> (it comes in the answer's value field).</summary>
    public uint Read(uint address) => commands.Run(RomCommand.ReadReg, RomPackets.Words(address)).Value;

    /// <summary>WRITE_REG: <paramref name="value"/> at <paramref name="address"/>, whole word, no delay.</summary>
    public void Write(uint address, uint value) =>
        commands.Run(RomCommand.WriteReg, RomPackets.Words(address, value, 0xFFFFFFFF, 0));

    /// <summary>
    /// Reads the flash chip's JEDEC ID (command 0x9F, 24 bits) through the SPI controller's user-command registers,
    /// as esptool's <c>run_spiflash_command</c> does: the ROM loader has no command of its own for it. The controller's
    /// USR and USR2 registers are put back as they were, so the ROM's own flash access is unchanged.
    /// </summary>
    public uint ReadFlashId(SpiFlashRegisters spi)
    {
        var cmd = spi.Base;
        var usr = spi.Base + spi.UsrOffset;
        var usr2 = spi.Base + spi.Usr2Offset;
        var oldUsr = Read(usr);
        var oldUsr2 = Read(usr2);
        Write(spi.Base + spi.MisoDlenOffset, 24 - 1);
        Write(usr, UsrCommandPhase | UsrMisoPhase);
        Write(usr2, (7u << 28) | ReadJedecId); // command length 8 bits (minus one), then the command
        Write(spi.Base + spi.W0Offset, 0);
        Write(cmd, CmdUsr);
        var done = false;
        for (var i = 0; i < CompletionPolls && !done; i++)
            done = (Read(cmd) & CmdUsr) == 0;
        if (!done)
            throw new WsCoreException(FailureKind.Device, "the SPI flash command did not complete",
                RomCommandRunner.DownloadModeHint);
        var id = Read(spi.Base + spi.W0Offset) & 0xFFFFFF;
        Write(usr, oldUsr);
        Write(usr2, oldUsr2);
        return id;
    }

    /// <summary>
    /// Through its own USB-Serial/JTAG port, a C3 or S3 keeps its RTC watchdog and super watchdog running in the
    /// loader, and they reset it mid-write: stop the one, let the other feed itself (esptool disable_watchdogs).
    /// Each is unlocked with its key and locked again afterwards.
    /// </summary>
    public void DisableWatchdogs(WatchdogRegisters watchdogs)
    {
        Write(watchdogs.WdtProtect, WatchdogRegisters.WdtKey);
        Write(watchdogs.WdtConfig0, 0);
        Write(watchdogs.WdtProtect, 0);
        Write(watchdogs.SwdProtect, WatchdogRegisters.SwdKey);
        Write(watchdogs.SwdConf, Read(watchdogs.SwdConf) | WatchdogRegisters.SwdAutoFeed);
        Write(watchdogs.SwdProtect, 0);
    }
}
