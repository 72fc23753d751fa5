using System.Text;

namespace WsCore.Monitor;

/// <summary>A line of the device's console: its text as received (colours included) and when it ended.</summary>
/// <param name="Text">The line without its CR/LF, ANSI escape codes kept.</param>
/// <param name="ShownBefore">
/// How many characters of <see cref="Text"/> were already handed out as a pending partial line (a prompt shown before
/// its line ended); a terminal prints only the rest.
/// </param>
public readonly record struct ConsoleLine(string Text, int ShownBefore = 0);

/// <summary>
/// Splits the console's byte stream into lines: LF ends a line, CR before it is dropped (ESP-IDF's console sends
/// CRLF). Bytes are decoded as UTF-8 (invalid sequences become U+FFFD: a wrong baud rate gives garbage, not an error).
/// No I/O: the caller pushes what it read and asks for the unfinished line when the device has gone quiet, so a prompt
/// such as <c>esp32&gt; </c> shows before its line ends.
/// </summary>
/// <remarks>One owner: not thread-safe.</remarks>
public sealed class ConsoleLineSplitter
{
    /// <summary>
    /// A line this long without a line feed is cut: garbage at a wrong baud rate must not grow without bound.
    /// </summary>
    public const int MaxLineLength = 8192;

    // Bytes decoded at a time: the characters buffer is sized for this once, whatever length a caller pushes.
    private const int DecodeSliceBytes = 4096;

    private readonly Decoder _utf8 = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _pending = new(MaxLineLength);
    // UTF-8 never gives more characters than bytes; a sequence held back from the previous slice adds at most 3.
    private readonly char[] _chars = new char[DecodeSliceBytes + 4];
    private int _shown;

    /// <summary>Whether there is text of a line not yet ended.</summary>
    public bool HasPending => _pending.Length > _shown;

    /// <summary>Adds received bytes; returns the lines they completed, in order (often none).</summary>
    public IReadOnlyList<ConsoleLine> Push(ReadOnlySpan<byte> bytes)
    {
        List<ConsoleLine>? lines = null;
        while (!bytes.IsEmpty)
        {
            var slice = bytes[..Math.Min(bytes.Length, DecodeSliceBytes)];
            bytes = bytes[slice.Length..];
            var count = _utf8.GetChars(slice, _chars, flush: false);
            foreach (var c in _chars.AsSpan(0, count))
            {
                if (c == '\n')
                {
                    (lines ??= []).Add(TakeLine());
                    continue;
                }
                _pending.Append(c);
                if (_pending.Length >= MaxLineLength)
                    (lines ??= []).Add(TakeLine());
            }
        }
        return lines ?? (IReadOnlyList<ConsoleLine>)[];
    }

    /// <summary>
    /// The text of the unfinished line not shown before (for a terminal to print without a line end), marking it
    /// shown; empty when there is none. The complete line later still carries all of it.
    /// </summary>
    public string TakePendingText()
    {
        var text = _pending.ToString(_shown, _pending.Length - _shown);
        _shown = _pending.Length;
        return text;
    }

    /// <summary>The whole unfinished line so far (for matching a prompt), without marking anything.</summary>
    public string PendingLine => _pending.ToString();

    private ConsoleLine TakeLine()
    {
        var length = _pending.Length;
        if (length > 0 && _pending[length - 1] == '\r')
            length--;
        var line = new ConsoleLine(_pending.ToString(0, length), Math.Min(_shown, length));
        _pending.Clear();
        _shown = 0;
        return line;
    }
}
