namespace WsCore.Chips;

/// <summary>
/// The RTC watchdog and super watchdog registers of chips with a USB-Serial/JTAG port, whose reset does not stop
/// them: left running they reset the chip in the middle of a write (esptool <c>disable_watchdogs</c>;
/// docs/esp32-rom-protocol.md §6).
/// </summary>
public sealed record WatchdogRegisters
{
    /// <summary>Unlocks the RTC watchdog's registers when written to <see cref="WdtProtect"/>.</summary>
    public const uint WdtKey = 0x50D83AA1;

    /// <summary>Unlocks the super watchdog's register when written to <see cref="SwdProtect"/>.</summary>
    public const uint SwdKey = 0x8F1D312A;

    /// <summary>The super watchdog's auto-feed bit in <see cref="SwdConf"/>.</summary>
    public const uint SwdAutoFeed = 1u << 31;

    /// <summary>RTC_CNTL_WDTCONFIG0: 0 stops the RTC watchdog.</summary>
    public required uint WdtConfig0 { get; init; }

    /// <summary>RTC_CNTL_WDTWPROTECT: the RTC watchdog's write protection.</summary>
    public required uint WdtProtect { get; init; }

    /// <summary>RTC_CNTL_SWD_CONF: the super watchdog's configuration (auto-feed).</summary>
    public required uint SwdConf { get; init; }

    /// <summary>RTC_CNTL_SWD_WPROTECT: the super watchdog's write protection.</summary>
    public required uint SwdProtect { get; init; }
}
