using Wsctl.Send;

namespace WsCore.Tests.Send;

/// <summary>The interactive prompt's editing keys, as readline's emacs mode has them, fed one key at a time.</summary>
public sealed class LineEditorTests
{
    private static ConsoleKeyInfo Char(char c) => new(c, ConsoleKey.NoName, false, false, false);

    private static ConsoleKeyInfo Key(ConsoleKey key, bool control = false, char c = '\0') =>
        new(c, key, false, false, control);

    private static ConsoleKeyInfo Ctrl(char letter) =>
        Key(Enum.Parse<ConsoleKey>(letter.ToString().ToUpperInvariant()), control: true, (char)(letter & 0x1F));

    private static LineEditor Typed(string text)
    {
        var editor = new LineEditor();
        foreach (var c in text)
            editor.Apply(Char(c));
        return editor;
    }

    [Fact]
    public void Typing_ThenEnter_SubmitsTheLine_AndClearsIt()
    {
        var editor = Typed("hello");
        Assert.Equal(EditOutcome.Submitted, editor.Apply(Key(ConsoleKey.Enter, c: '\r')));
        Assert.Equal("hello", editor.Submitted);
        Assert.Equal("", editor.Text);
        Assert.Equal(0, editor.Cursor);
    }

    [Fact]
    public void ArrowsHomeEnd_AndInsertInTheMiddle()
    {
        var editor = Typed("ac");
        editor.Apply(Key(ConsoleKey.LeftArrow));
        editor.Apply(Char('b'));
        Assert.Equal("abc", editor.Text);
        editor.Apply(Key(ConsoleKey.Home));
        editor.Apply(Char('>'));
        editor.Apply(Ctrl('e'));
        editor.Apply(Char('<'));
        Assert.Equal(">abc<", editor.Text);
        Assert.Equal(5, editor.Cursor);
    }

    [Fact]
    public void BackspaceDeleteAndKills()
    {
        var editor = Typed("one two three");
        editor.Apply(Key(ConsoleKey.Backspace));
        Assert.Equal("one two thre", editor.Text);
        editor.Apply(Ctrl('w'));
        Assert.Equal("one two ", editor.Text);
        editor.Apply(Ctrl('a'));
        editor.Apply(Key(ConsoleKey.Delete));
        Assert.Equal("ne two ", editor.Text);
        editor.Apply(Ctrl('f'));
        editor.Apply(Ctrl('k'));
        Assert.Equal("n", editor.Text);
        editor.Apply(Ctrl('u'));
        Assert.Equal("", editor.Text);
    }

    [Fact]
    public void CtrlD_OnAnEmptyLine_EndsInput_ElseDeletesUnderTheCursor()
    {
        var editor = Typed("ab");
        editor.Apply(Ctrl('a'));
        Assert.Equal(EditOutcome.Edited, editor.Apply(Ctrl('d')));
        Assert.Equal("b", editor.Text);
        editor.Apply(Ctrl('d'));
        Assert.Equal(EditOutcome.EndOfInput, editor.Apply(Ctrl('d')));
    }

    [Fact]
    public void UpAndDown_RecallSentLines_AndGiveBackWhatWasBeingTyped()
    {
        var editor = new LineEditor();
        foreach (var line in new[] { "first", "second" })
        {
            foreach (var c in line)
                editor.Apply(Char(c));
            editor.Apply(Key(ConsoleKey.Enter, c: '\r'));
        }
        editor.Apply(Char('x'));
        editor.Apply(Key(ConsoleKey.UpArrow));
        Assert.Equal("second", editor.Text);
        editor.Apply(Key(ConsoleKey.UpArrow));
        Assert.Equal("first", editor.Text);
        editor.Apply(Key(ConsoleKey.UpArrow));
        Assert.Equal("first", editor.Text);
        editor.Apply(Key(ConsoleKey.DownArrow));
        editor.Apply(Key(ConsoleKey.DownArrow));
        Assert.Equal("x", editor.Text);
    }

    [Fact]
    public void ControlCharacters_AreNotInserted()
    {
        var editor = Typed("a");
        editor.Apply(new ConsoleKeyInfo('\u001b', ConsoleKey.Escape, false, false, false));
        editor.Apply(new ConsoleKeyInfo('\t', ConsoleKey.Tab, false, false, false));
        Assert.Equal("a", editor.Text);
    }

    [Fact]
    public void Render_ALineWiderThanTheTerminal_ShowsTheCursorsPartOnOneRow()
    {
        var editor = Typed(new string('x', 100) + "END");
        var drawn = editor.Render("> ", 40);
        Assert.StartsWith("\r> ", drawn, StringComparison.Ordinal);
        Assert.Contains("END\u001b[K", drawn, StringComparison.Ordinal);
        var visible = drawn[3..drawn.IndexOf('\u001b', StringComparison.Ordinal)];
        Assert.True(visible.Length <= 40 - 3, visible);
        editor.Apply(Key(ConsoleKey.Home));
        Assert.EndsWith("\u001b[K\u001b[37D", editor.Render("> ", 40), StringComparison.Ordinal);
    }
}
