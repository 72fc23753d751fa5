using System.Globalization;
using System.Text.RegularExpressions;

namespace WsCore.Monitor;

/// <summary>
/// Finds the code addresses worth decoding in the lines of a panic report, as ESP-IDF v5 prints them:
/// <list type="bullet">
/// <item>Xtensa backtraces, <c>Backtrace: 0x400d1234:0x3ffb1230 0x400d5678:0x3ffb1250 |&lt;-CORRUPTED</c>: PC:SP pairs,
/// of which the first (the PC) is taken;</item>
/// <item>register dumps, <c>PC      : 0x400d6e2d  PS      : 0x00060830 …</c> (Xtensa) and
/// <c>MEPC    : 0x42000abc  RA      : 0x42000def …</c> (RISC-V): the program counter and the return address;</item>
/// <item><c>abort() was called at PC 0x400d6e3b on core 0</c>;</item>
/// <item>the RISC-V <c>Stack memory:</c> dump that follows the registers, <c>3fc93a40: 0x00000000 0x4200a1d6 …</c>:
/// every word (the decoder keeps those inside the ELF's code, the return addresses on the stack).</item>
/// </list>
/// Candidates only: which of them are code is for the <see cref="IAddressDecoder"/> to say.
/// </summary>
/// <remarks>Remembers whether it is inside a stack dump between lines. One owner: not thread-safe.</remarks>
public sealed partial class CrashAddressExtractor
{
    private static readonly HashSet<string> CodeRegisters = ["PC", "MEPC", "RA"];
    private bool _inStackDump;

    /// <summary>
    /// The candidate addresses in <paramref name="line"/> (escapes stripped), in order, without repeats.
    /// </summary>
    public IReadOnlyList<ulong> Extract(string line)
    {
        var found = new List<ulong>();
        if (_inStackDump)
        {
            var dump = StackDumpLinePattern().Match(line);
            if (dump.Success)
            {
                foreach (Capture word in dump.Groups[1].Captures)
                    Add(found, word.Value);
                return found;
            }
            // A blank line may separate the header from the words; anything else ends the dump.
            if (string.IsNullOrWhiteSpace(line))
                return found;
            _inStackDump = false;
        }
        if (StackMemoryHeaderPattern().IsMatch(line))
        {
            _inStackDump = true;
            return found;
        }
        var backtrace = BacktracePattern().Match(line);
        if (backtrace.Success)
        {
            foreach (Match pair in PcSpPairPattern().Matches(line, backtrace.Index + backtrace.Length))
                Add(found, pair.Groups[1].Value);
            return found;
        }
        var abort = AbortPattern().Match(line);
        if (abort.Success)
        {
            Add(found, abort.Groups[1].Value);
            return found;
        }
        if (RegisterLinePattern().IsMatch(line))
            foreach (Match register in RegisterPattern().Matches(line))
                if (CodeRegisters.Contains(register.Groups[1].Value))
                    Add(found, register.Groups[2].Value);
        return found;
    }

    private static void Add(List<ulong> found, string hex)
    {
        var digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        if (ulong.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var address)
            && !found.Contains(address))
            found.Add(address);
    }

    [GeneratedRegex(@"Backtrace:\s*", RegexOptions.CultureInvariant)]
    private static partial Regex BacktracePattern();

    [GeneratedRegex(@"(0x[0-9a-fA-F]{1,16}):0x[0-9a-fA-F]{1,16}", RegexOptions.CultureInvariant)]
    private static partial Regex PcSpPairPattern();

    [GeneratedRegex(@"abort\(\) was called at PC (0x[0-9a-fA-F]{1,16})", RegexOptions.CultureInvariant)]
    private static partial Regex AbortPattern();

    // A register dump line starts with a register name, a colon and a hex value ("S0/FP   : 0x…" included).
    [GeneratedRegex(@"^\s*[A-Z][A-Z0-9/]*\s*:\s*0x[0-9a-fA-F]+", RegexOptions.CultureInvariant)]
    private static partial Regex RegisterLinePattern();

    [GeneratedRegex(@"\b([A-Z][A-Z0-9]*)(?:/[A-Z0-9]+)?\s*:\s*(0x[0-9a-fA-F]{1,16})", RegexOptions.CultureInvariant)]
    private static partial Regex RegisterPattern();

    [GeneratedRegex(@"^\s*Stack memory:\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex StackMemoryHeaderPattern();

    [GeneratedRegex(@"^\s*[0-9a-fA-F]{8}:(?:\s+(0x[0-9a-fA-F]{8}))+\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex StackDumpLinePattern();
}
