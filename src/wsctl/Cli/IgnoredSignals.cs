using System.Globalization;
using System.Runtime.InteropServices;

namespace Wsctl.Cli;

/// <summary>
/// A shell without job control starts background commands (<c>wsctl serve &amp;</c> in a script) with SIGINT ignored
/// (POSIX, XCU 2.11), and .NET then installs no SIGINT handler, so <c>kill -INT</c> would not stop serve. serve
/// documents SIGINT as its graceful stop, so it takes the signal back to the default disposition before registering
/// its own handler.
/// </summary>
internal static class IgnoredSignals
{
    private const int SigInt = 2;
    private static readonly nint SigDfl = 0;

    [DllImport("libc", EntryPoint = "signal")]
    private static extern nint SetSignalHandler(int signal, nint handler);

    /// <summary>
    /// Resets SIGINT to its default when the process inherited it ignored (Linux: /proc/self/status).
    /// </summary>
    public static void RestoreInterrupt()
    {
        if (!OperatingSystem.IsLinux() || !IsIgnored(SigInt))
            return;
        SetSignalHandler(SigInt, SigDfl);
    }

    private static bool IsIgnored(int signal)
    {
        try
        {
            const string Field = "SigIgn:";
            var line = File.ReadLines("/proc/self/status")
                .FirstOrDefault(l => l.StartsWith(Field, StringComparison.Ordinal));
            return line is not null
                && ulong.TryParse(line[Field.Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture,
                    out var mask)
                && (mask & (1UL << (signal - 1))) != 0;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
