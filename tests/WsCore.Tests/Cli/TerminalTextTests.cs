using System.Buffers;
using System.Text;
using Wsctl.Cli;

namespace WsCore.Tests.Cli;

/// <summary>
/// Peer text on a terminal: every control character escaped, so one message is one line and nothing a peer sent is
/// obeyed by the terminal; everything else, JSON's backslashes included, as it came.
/// </summary>
public sealed class TerminalTextTests
{
    private static string Escaped(string text) => Escaped(Encoding.UTF8.GetBytes(text));

    private static string Escaped(byte[] utf8)
    {
        var output = new ArrayBufferWriter<byte>();
        TerminalText.WriteEscaped(utf8, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Theory]
    [InlineData("hello", "hello")]
    [InlineData("{\"a\":\"b\\\"c\"}", "{\"a\":\"b\\\"c\"}")]
    [InlineData("ünïcödé ✓ 🙂", "ünïcödé ✓ 🙂")]
    [InlineData("a\nb", "a\\nb")]
    [InlineData("a\r\nb", "a\\r\\nb")]
    [InlineData("tab\there", "tab\\there")]
    [InlineData("\u001b[31mred", "\\e[31mred")]
    [InlineData("\u001b]0;pwned\u0007", "\\e]0;pwned\\x07")]
    [InlineData("nul\0", "nul\\x00")]
    [InlineData("del\u007f", "del\\x7F")]
    [InlineData("csi\u009b31m", "csi\\u{9B}31m")]
    [InlineData("next\u0085line", "next\\u{85}line")]
    [InlineData("ltr\u202eevil", "ltr\\u{202E}evil")]
    [InlineData("iso\u2066x\u2069", "iso\\u{2066}x\\u{2069}")]
    [InlineData("dash \u2014 ok", "dash \u2014 ok")]
    [InlineData("\u00e9\u00a0", "\u00e9\u00a0")]
    public void WriteEscaped_ControlsVisible_RestAsItCame(string text, string shown) =>
        Assert.Equal(shown, Escaped(text));

    [Fact]
    public void WriteEscaped_TheForgedLineOfTheThreatModel_StaysOneHarmlessLine()
    {
        var shown = Escaped("hello\u001b]0;pwned\u0007\u001b[31mred\n{\"type\":\"fake\"}");
        Assert.Equal("hello\\e]0;pwned\\x07\\e[31mred\\n{\"type\":\"fake\"}", shown);
        Assert.DoesNotContain(shown, c => char.IsControl(c));
    }

    [Fact]
    public void WriteEscaped_EveryByteValue_NoControlCharacterSurvives()
    {
        // Every single byte, and every two-byte sequence led by 0xC2 (U+0080-U+00BF).
        for (var b = 0; b < 0x80; b++)
            Assert.DoesNotContain(Escaped([(byte)b]), c => char.IsControl(c));
        for (var b = 0x80; b < 0xC0; b++)
            Assert.DoesNotContain(Escaped([0xC2, (byte)b]), c => char.IsControl(c));
    }

    [Fact]
    public void WriteEscaped_InvalidUtf8_ShownAsBytes() =>
        Assert.Equal("a\\xC2", Escaped([(byte)'a', 0xC2]));

    [Fact]
    public void IsSafe_PlainAsciiAndJson_True_AnyControl_False()
    {
        Assert.True(TerminalText.IsSafe("{\"sensor\":\"counter\",\"value\":1}"u8));
        Assert.False(TerminalText.IsSafe("x\ny"u8));
    }
}
