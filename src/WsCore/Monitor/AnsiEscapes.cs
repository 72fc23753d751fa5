using System.Text;

namespace WsCore.Monitor;

/// <summary>ANSI/VT100 escape sequences in console text (ESP-IDF colours its log lines with SGR codes).</summary>
public static class AnsiEscapes
{
    /// <summary>
    /// The text without escape sequences: CSI (<c>ESC [ … final</c>, colours and cursor moves), OSC (<c>ESC ] … BEL</c>
    /// or <c>ESC \</c>) and two-character escapes. An escape cut off at the end of the text is dropped too.
    /// </summary>
    public static string Strip(string text)
    {
        var escape = text.IndexOf('\x1b');
        if (escape < 0)
            return text;
        var plain = new StringBuilder(text.Length);
        plain.Append(text, 0, escape);
        var i = escape;
        while (i < text.Length)
        {
            var c = text[i];
            if (c != '\x1b')
            {
                plain.Append(c);
                i++;
                continue;
            }
            i++;
            if (i >= text.Length)
                break;
            var kind = text[i++];
            if (kind == '[')
            {
                // Parameters and intermediates (0x20-0x3F), then one final byte (0x40-0x7E).
                while (i < text.Length && text[i] is >= ' ' and <= '?')
                    i++;
                if (i < text.Length)
                    i++;
            }
            else if (kind == ']')
            {
                while (i < text.Length && text[i] != '\a'
                    && !(text[i] == '\x1b' && i + 1 < text.Length && text[i + 1] == '\\'))
                    i++;
                i += i < text.Length && text[i] == '\a' ? 1 : 2;
            }
        }
        return plain.ToString();
    }
}
