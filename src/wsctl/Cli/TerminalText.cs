using System.Buffers;
using System.Text;

namespace Wsctl.Cli;

/// <summary>
/// Peer text made safe for a terminal and for line-based readers: every control character is written as a visible
/// escape, so one message is one line and no byte a device or a client sent reaches the terminal as a control
/// sequence (an OSC that retitles the window, a colour, a cursor move, a forged second line). As Rust's
/// <c>escape_debug</c> and <c>cat -v</c> do: <c>\n</c>, <c>\r</c>, <c>\t</c>, <c>\e</c>, <c>\xNN</c> for the other C0
/// bytes and DEL, <c>\u{NN}</c> for the C1 controls (U+0080-U+009F, which some terminals obey like ESC sequences) and
/// the bidirectional overrides (U+202A-U+202E, U+2066-U+2069, which reorder what is shown). Everything else, a
/// backslash included, is written as it came: JSON in a message stays JSON.
/// </summary>
public static class TerminalText
{
    // The bytes that can start something to escape: C0 controls, DEL, 0xC2 (the lead byte of U+0080-U+00BF, the C1
    // controls among them) and 0xE2 (the lead byte of U+2000-U+2FFF, the bidi controls among them). A message free
    // of them is copied in one vectorised search.
    private static readonly SearchValues<byte> Suspects = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), 0x7F, 0xC2, 0xE2]);

    /// <summary>Whether <paramref name="text"/> has nothing to escape.</summary>
    public static bool IsSafe(ReadOnlySpan<byte> text) => text.IndexOfAny(Suspects) < 0;

    /// <summary>Writes <paramref name="utf8"/> (peer text) to <paramref name="output"/>, controls escaped.</summary>
    public static void WriteEscaped(ReadOnlySpan<byte> utf8, IBufferWriter<byte> output)
    {
        while (!utf8.IsEmpty)
        {
            var next = utf8.IndexOfAny(Suspects);
            if (next < 0)
            {
                output.Write(utf8);
                return;
            }
            output.Write(utf8[..next]);
            utf8 = utf8[next..];
            utf8 = utf8[WriteOne(utf8, output)..];
        }
    }

    /// <summary><paramref name="text"/> with controls escaped, as a string (for log lines and hints).</summary>
    public static string Escape(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (IsSafe(bytes))
            return text;
        var output = new ArrayBufferWriter<byte>(bytes.Length + 16);
        WriteEscaped(bytes, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    // Writes the suspect at the start of utf8 (escaped, or as is when it is harmless) and returns the bytes taken.
    private static int WriteOne(ReadOnlySpan<byte> utf8, IBufferWriter<byte> output)
    {
        var first = utf8[0];
        if (first < 0x20 || first == 0x7F)
        {
            output.Write(first switch
            {
                (byte)'\n' => "\\n"u8,
                (byte)'\r' => "\\r"u8,
                (byte)'\t' => "\\t"u8,
                0x1B => "\\e"u8,
                _ => Encoding.ASCII.GetBytes($"\\x{first:X2}"),
            });
            return 1;
        }
        // A multi-byte sequence: decode one scalar (invalid UTF-8 is written as \xNN, one byte at a time).
        var status = System.Text.Rune.DecodeFromUtf8(utf8, out var rune, out var length);
        if (status != OperationStatus.Done)
        {
            output.Write(Encoding.ASCII.GetBytes($"\\x{first:X2}"));
            return 1;
        }
        if (rune.Value is >= 0x80 and <= 0x9F or >= 0x202A and <= 0x202E or >= 0x2066 and <= 0x2069)
            output.Write(Encoding.ASCII.GetBytes($"\\u{{{rune.Value:X2}}}"));
        else
            output.Write(utf8[..length]);
        return length;
    }
}
