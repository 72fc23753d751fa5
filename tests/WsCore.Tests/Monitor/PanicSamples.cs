namespace WsCore.Tests.Monitor;

/// <summary>
/// Console output of ESP-IDF v5 firmware as the chips print it (the panic handler's and the ROM's wording, spacing and
/// CRLF line ends), for the recognisers. Addresses are the chips' usual ones; tests that decode put the test ELF's
/// addresses into the same templates.
/// </summary>
public static class PanicSamples
{
    /// <summary>ESP32 (Xtensa), LoadProhibited in a task, then the reboot and the ROM banner.</summary>
    public const string XtensaLoadProhibited =
        "I (312) main_task: Calling app_main()\r\n" +
        "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.\r\n" +
        "\r\n" +
        "Core  0 register dump:\r\n" +
        "PC      : 0x400d6e2d  PS      : 0x00060830  A0      : 0x800d6e6c  A1      : 0x3ffb5620  \r\n" +
        "A2      : 0x00000000  A3      : 0x3ffb5660  A4      : 0x3ffb5660  A5      : 0x00000001  \r\n" +
        "A6      : 0x00000000  A7      : 0x00000000  A8      : 0x800d6e2a  A9      : 0x3ffb5600  \r\n" +
        "A10     : 0x0000002a  A11     : 0x3ffb5660  A12     : 0x00000000  A13     : 0x00000000  \r\n" +
        "A14     : 0x00000000  A15     : 0x00000000  SAR     : 0x00000000  EXCCAUSE: 0x0000001c  \r\n" +
        "EXCVADDR: 0x00000000  LBEG    : 0x4000c2e0  LEND    : 0x4000c2f6  LCOUNT  : 0xffffffff  \r\n" +
        "\r\n" +
        "\r\n" +
        "Backtrace: 0x400d6e2a:0x3ffb5620 0x400d6e69:0x3ffb5640 0x400e4f6f:0x3ffb5680 0x40087c1d:0x3ffb56a0\r\n" +
        "\r\n" +
        "\r\n" +
        "\r\n" +
        "\r\n" +
        "ELF file SHA256: 9a3ff5b8fe5a8e0f\r\n" +
        "\r\n" +
        "Rebooting...\r\n" +
        "ets Jul 29 2019 12:21:46\r\n" +
        "\r\n" +
        "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n";

    /// <summary>ESP32 (Xtensa), abort() from a task: the PC of the call, then the backtrace.</summary>
    public const string XtensaAbort =
        "\r\n" +
        "abort() was called at PC 0x400d6e3b on core 0\r\n" +
        "\r\n" +
        "\r\n" +
        "Backtrace: 0x40081a36:0x3ffb5580 0x40087d29:0x3ffb55a0 0x4008c9e2:0x3ffb55c0 0x400d6e3b:0x3ffb5630 " +
        "|<-CORRUPTED\r\n" +
        "\r\n" +
        "\r\n" +
        "ELF file SHA256: 9a3ff5b8fe5a8e0f\r\n" +
        "\r\n" +
        "Rebooting...\r\n";

    /// <summary>ESP32-C3 (RISC-V), Load access fault: registers, then the stack dump, then the reboot.</summary>
    public const string RiscvLoadAccessFault =
        "I (290) main_task: Calling app_main()\r\n" +
        "Guru Meditation Error: Core  0 panic'ed (Load access fault). Exception was unhandled.\r\n" +
        "\r\n" +
        "Core  0 register dump:\r\n" +
        "MEPC    : 0x42007a1a  RA      : 0x42007a14  SP      : 0x3fc93a40  GP      : 0x3fc8d800  \r\n" +
        "TP      : 0x3fc93b84  T0      : 0x40057fa6  T1      : 0x0000000f  T2      : 0x00000000  \r\n" +
        "S0/FP   : 0x00000000  S1      : 0x00000000  A0      : 0x00000000  A1      : 0x3fc93a2c  \r\n" +
        "A2      : 0x00000000  A3      : 0x00000001  A4      : 0x0000002a  A5      : 0x00000000  \r\n" +
        "A6      : 0x00000000  A7      : 0x0000000a  S2      : 0x00000000  S3      : 0x00000000  \r\n" +
        "S4      : 0x00000000  S5      : 0x00000000  S6      : 0x00000000  S7      : 0x00000000  \r\n" +
        "S8      : 0x00000000  S9      : 0x00000000  S10     : 0x00000000  S11     : 0x00000000  \r\n" +
        "T3      : 0x00000000  T4      : 0x00000000  T5      : 0x00000000  T6      : 0x00000000  \r\n" +
        "MSTATUS : 0x00001881  MTVEC   : 0x40380001  MCAUSE  : 0x00000005  MTVAL   : 0x00000000  \r\n" +
        "MHARTID : 0x00000000  \r\n" +
        "\r\n" +
        "Stack memory:\r\n" +
        "3fc93a40: 0x00000000 0x00000000 0x00000000 0x42007a3c 0x00000000 0x00000000 0x00000000 0x4037f2c6\r\n" +
        "3fc93a60: 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000 0x00000000\r\n" +
        "\r\n" +
        "\r\n" +
        "\r\n" +
        "ELF file SHA256: 3c7ab2ef61a0ab2e\r\n" +
        "\r\n" +
        "Rebooting...\r\n" +
        "ESP-ROM:esp32c3-api1-20210207\r\n" +
        "Build:Feb  7 2021\r\n" +
        "rst:0x3 (RTC_SW_SYS_RST),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n";

    /// <summary>A failed assert() (ESP32-C3): its own first line, no Guru Meditation.</summary>
    public const string RiscvAssert =
        "\r\n" +
        "assert failed: app_main main.c:12 (count == 1)\r\n" +
        "Core  0 register dump:\r\n" +
        "MEPC    : 0x40380a1e  RA      : 0x40385c8e  SP      : 0x3fc93a00  GP      : 0x3fc8d800  \r\n";

    /// <summary>
    /// An ESP32 whose watchdog resets it over and over: ROM banners with nothing between them panicking.
    /// </summary>
    public const string WatchdogResets =
        "ets Jul 29 2019 12:21:46\r\n" +
        "\r\n" +
        "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n" +
        "configsip: 0, SPIWP:0xee\r\n" +
        "mode:DIO, clock div:2\r\n" +
        "load:0x3fff0030,len:7104\r\n" +
        "entry 0x400805f0\r\n" +
        "I (29) boot: ESP-IDF v5.2.1 2nd stage bootloader\r\n" +
        "ets Jul 29 2019 12:21:46\r\n" +
        "\r\n" +
        "rst:0x10 (RTCWDT_RTC_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n" +
        "I (29) boot: ESP-IDF v5.2.1 2nd stage bootloader\r\n" +
        "ets Jul 29 2019 12:21:46\r\n" +
        "\r\n" +
        "rst:0x10 (RTCWDT_RTC_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n";

    /// <summary>A normal boot of the wsctl firmware, log colours included.</summary>
    public const string HealthyBoot =
        "ets Jul 29 2019 12:21:46\r\n" +
        "\r\n" +
        "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n" +
        "\u001b[0;32mI (29) boot: ESP-IDF v5.2.1 2nd stage bootloader\u001b[0m\r\n" +
        "\u001b[0;32mI (512) wifi: connected to MyNet\u001b[0m\r\n" +
        "\u001b[0;33mW (530) mdns: no IPv6 address yet\u001b[0m\r\n" +
        "\u001b[0;32mI (611) ws_server: WebSocket server on port 8080\u001b[0m\r\n";

    /// <summary>The lines of a sample, as the splitter gives them.</summary>
    public static string[] Lines(string sample) => sample.Replace("\r\n", "\n").TrimEnd('\n').Split('\n');
}
