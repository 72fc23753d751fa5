using System.Text;

namespace Wsctl.Send;

/// <summary>What a key did to the line being edited.</summary>
public enum EditOutcome
{
    /// <summary>The line changed (or not): draw it again.</summary>
    Edited,
    /// <summary>Enter: the line is done (<see cref="LineEditor.Submitted"/>).</summary>
    Submitted,
    /// <summary>Ctrl-D on an empty line: no more input.</summary>
    EndOfInput,
}

/// <summary>
/// The line being typed in an interactive <c>send</c>, with the editing keys of readline's emacs mode (what bash and
/// wscat answer to): arrows, Home/End, Backspace/Delete, Ctrl-A/E/B/F, Ctrl-U/K/W, Up/Down through the lines sent
/// before, Enter, Ctrl-D. No I/O: keys in, a line and its drawing out (<see cref="TerminalPrompt"/> does the I/O).
/// </summary>
public sealed class LineEditor
{
    private readonly StringBuilder _line = new();
    private readonly List<string> _history = [];
    private int _historyIndex; // _history.Count: the line being typed, not a recalled one
    private string _typed = "";

    /// <summary>The line as typed so far.</summary>
    public string Text => _line.ToString();

    /// <summary>Where the cursor is, in characters from the start of the line.</summary>
    public int Cursor { get; private set; }

    /// <summary>The line Enter completed (after <see cref="EditOutcome.Submitted"/>).</summary>
    public string Submitted { get; private set; } = "";

    public EditOutcome Apply(ConsoleKeyInfo key)
    {
        var control = (key.Modifiers & ConsoleModifiers.Control) != 0;
        switch (key.Key)
        {
            case ConsoleKey.Enter:
                Submitted = Text;
                if (Submitted.Length > 0 && (_history.Count == 0 || _history[^1] != Submitted))
                    _history.Add(Submitted);
                _historyIndex = _history.Count;
                _line.Clear();
                Cursor = 0;
                return EditOutcome.Submitted;
            case ConsoleKey.D when control:
                if (_line.Length == 0)
                    return EditOutcome.EndOfInput;
                DeleteAt(Cursor);
                break;
            case ConsoleKey.Backspace:
            case ConsoleKey.H when control:
                if (Cursor > 0)
                    DeleteAt(--Cursor);
                break;
            case ConsoleKey.Delete:
                DeleteAt(Cursor);
                break;
            case ConsoleKey.LeftArrow:
            case ConsoleKey.B when control:
                Cursor = Math.Max(0, Cursor - 1);
                break;
            case ConsoleKey.RightArrow:
            case ConsoleKey.F when control:
                Cursor = Math.Min(_line.Length, Cursor + 1);
                break;
            case ConsoleKey.Home:
            case ConsoleKey.A when control:
                Cursor = 0;
                break;
            case ConsoleKey.End:
            case ConsoleKey.E when control:
                Cursor = _line.Length;
                break;
            case ConsoleKey.U when control:
                _line.Remove(0, Cursor);
                Cursor = 0;
                break;
            case ConsoleKey.K when control:
                _line.Remove(Cursor, _line.Length - Cursor);
                break;
            case ConsoleKey.W when control:
                var start = Cursor;
                while (start > 0 && _line[start - 1] == ' ')
                    start--;
                while (start > 0 && _line[start - 1] != ' ')
                    start--;
                _line.Remove(start, Cursor - start);
                Cursor = start;
                break;
            case ConsoleKey.UpArrow:
            case ConsoleKey.P when control:
                Recall(-1);
                break;
            case ConsoleKey.DownArrow:
            case ConsoleKey.N when control:
                Recall(+1);
                break;
            default:
                // Typed text; other control keys (Tab, Escape, function keys) are ignored rather than inserted.
                if (!char.IsControl(key.KeyChar) && key.KeyChar != '\0' && !control)
                {
                    _line.Insert(Cursor, key.KeyChar);
                    Cursor++;
                }
                break;
        }
        return EditOutcome.Edited;
    }

    /// <summary>
    /// The prompt and the line, drawn over the current terminal row: as much of the line as fits in
    /// <paramref name="width"/> columns around the cursor (the row never wraps, so redrawing it is always exact),
    /// then the cursor put back where it belongs.
    /// </summary>
    public string Render(string prompt, int width)
    {
        var room = Math.Max(8, width - prompt.Length - 1);
        var first = Cursor < room ? 0 : Cursor - room + 1;
        var shown = Text.Substring(first, Math.Min(room, _line.Length - first));
        var back = first + shown.Length - Cursor;
        return "\r" + prompt + shown + "\x1b[K" + (back > 0 ? $"\x1b[{back}D" : "");
    }

    private void DeleteAt(int index)
    {
        if (index < _line.Length)
            _line.Remove(index, 1);
    }

    private void Recall(int step)
    {
        var index = _historyIndex + step;
        if (index < 0 || index > _history.Count)
            return;
        if (_historyIndex == _history.Count)
            _typed = Text;
        _historyIndex = index;
        _line.Clear().Append(index == _history.Count ? _typed : _history[index]);
        Cursor = _line.Length;
    }
}
