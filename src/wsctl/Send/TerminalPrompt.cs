using System.Text;
using System.Threading.Channels;

namespace Wsctl.Send;

/// <summary>
/// The prompt of an interactive <c>send</c>: keys are read on a thread of their own and edited with
/// <see cref="LineEditor"/>; what arrives meanwhile is written above the line being typed, which is then drawn again,
/// so neither garbles the other (as wscat's readline does). A sent line stays on screen after its <c>&gt; </c>.
/// Thread-safe: one lock orders every write to the terminal.
/// </summary>
public sealed class TerminalPrompt : IDisposable
{
    private const string Prompt = "> ";

    private readonly Stream _terminal;
    private readonly LineEditor _editor = new();
    private readonly Channel<string?> _lines = Channel.CreateUnbounded<string?>();
    private readonly Lock _lock = new();
    private bool _closed;

    public TerminalPrompt(Stream terminal) => _terminal = terminal;

    /// <summary>Draws the prompt and starts reading keys.</summary>
    public void Start()
    {
        lock (_lock)
            DrawLocked();
        var reader = new Thread(ReadKeys)
        {
            // A thread blocked in a read must not keep the process alive once the session is over.
            IsBackground = true,
            Name = "send prompt",
        };
        reader.Start();
    }

    /// <summary>The next line typed (Enter), or null once input ended (Ctrl-D on an empty line).</summary>
    public async ValueTask<string?> ReadLineAsync(CancellationToken cancel) =>
        await _lines.Reader.ReadAsync(cancel);

    /// <summary>Writes one line above the prompt and draws the prompt again below it.</summary>
    public void WriteAbove(ReadOnlySpan<byte> line)
    {
        lock (_lock)
        {
            Write("\r\x1b[K"u8);
            _terminal.Write(line);
            Write("\n"u8);
            DrawLocked();
        }
    }

    /// <summary>Removes the prompt: nothing more is read or drawn.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_closed)
                return;
            Write("\r\x1b[K"u8);
            _terminal.Flush();
            _closed = true;
        }
    }

    private void ReadKeys()
    {
        try
        {
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                lock (_lock)
                {
                    if (_closed)
                        return;
                    switch (_editor.Apply(key))
                    {
                        case EditOutcome.Submitted:
                            // The sent line stays on screen as typed; a fresh prompt below it.
                            Write(Encoding.UTF8.GetBytes("\r" + Prompt + _editor.Submitted + "\x1b[K\n"));
                            _lines.Writer.TryWrite(_editor.Submitted);
                            break;
                        case EditOutcome.EndOfInput:
                            Write("\r\x1b[K"u8);
                            _terminal.Flush();
                            _lines.Writer.TryWrite(null);
                            return;
                    }
                    DrawLocked();
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // The terminal went away: no more input.
            _lines.Writer.TryWrite(null);
        }
    }

    private void DrawLocked()
    {
        if (_closed)
            return;
        Write(Encoding.UTF8.GetBytes(_editor.Render(Prompt, Width())));
        _terminal.Flush();
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        if (!_closed)
            _terminal.Write(bytes);
    }

    private static int Width()
    {
        try
        {
            return Console.WindowWidth is > 0 and var width ? width : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
