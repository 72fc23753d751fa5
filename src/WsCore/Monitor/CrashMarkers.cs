using System.Text.RegularExpressions;

namespace WsCore.Monitor;

/// <summary>
/// What ESP-IDF (v4/v5) and the ROM print when the firmware crashes or the chip boots, recognised in one line of
/// console text with the ANSI escapes already stripped (see <see cref="AnsiEscapes"/>).
/// </summary>
public static partial class CrashMarkers
{
    /// <summary>
    /// Whether the line starts a panic report: <c>Guru Meditation Error: Core  0 panic'ed (LoadProhibited)</c>,
    /// <c>abort() was called at PC 0x… on core 0</c>, <c>assert failed: …</c>, a stack overflow or stack-smashing
    /// report, or the older <c>Core  0 panic</c> wording.
    /// </summary>
    public static bool IsPanic(string line) => PanicPattern().IsMatch(line);

    /// <summary>
    /// Whether the line ends a panic report: the panic handler's <c>Rebooting...</c> or <c>CPU halted.</c> (what it
    /// prints last before the reset or the halt).
    /// </summary>
    public static bool IsPanicEnd(string line) => PanicEndPattern().IsMatch(line);

    /// <summary>
    /// Whether the line is the ROM's boot banner, <c>rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)</c>
    /// (ESP32) or <c>rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)</c> (the RISC-V chips): printed once per reset,
    /// whatever caused it. <paramref name="reason"/> is the reset cause as printed, e.g. <c>rst:0xc (SW_CPU_RESET)</c>.
    /// </summary>
    public static bool IsBootBanner(string line, out string reason)
    {
        var match = BootBannerPattern().Match(line);
        reason = match.Success ? match.Groups[1].Value.TrimEnd(',', ' ') : "";
        return match.Success;
    }

    [GeneratedRegex(
        @"Guru Meditation Error|abort\(\) was called|panic'ed|Core\s+\d+\s+panic|^\s*assert failed:|" +
        @"Stack smashing protect failure|stack overflow in task",
        RegexOptions.CultureInvariant)]
    private static partial Regex PanicPattern();

    [GeneratedRegex(@"^\s*(Rebooting\.\.\.|CPU halted\.)", RegexOptions.CultureInvariant)]
    private static partial Regex PanicEndPattern();

    [GeneratedRegex(@"^\s*(rst:0x[0-9a-fA-F]+(?:\s*\([^)]*\))?)", RegexOptions.CultureInvariant)]
    private static partial Regex BootBannerPattern();
}
