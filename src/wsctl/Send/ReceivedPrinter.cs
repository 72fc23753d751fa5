using System.Buffers;
using System.Text;
using WsCore.WebSockets.Protocol;
using Wsctl.Cli;

namespace Wsctl.Send;

/// <summary>
/// Shows what <c>send</c> receives, one line per message: text with control characters escaped (or as it came, with
/// <c>--raw</c>), binary as <c>[binary N bytes] base64:…</c>, or one JSON object per message. In an interactive
/// session the lines go above the prompt, marked <c>&lt; </c>, and notes (a pong, the close) are shown there too.
/// </summary>
public sealed class ReceivedPrinter
{
    private readonly Stream _stdout;
    private readonly ReceivedStyle _style;
    private readonly JsonLines? _json;
    private readonly TerminalPrompt? _prompt;
    private readonly ArrayBufferWriter<byte> _line = new(256);
    private readonly Lock _lock = new();

    public ReceivedPrinter(Stream stdout, ReceivedStyle style, JsonLines? json, TerminalPrompt? prompt = null)
    {
        _stdout = stdout;
        _style = style;
        _json = json;
        _prompt = prompt;
    }

    public void Print(MessageType type, ReadOnlySpan<byte> payload)
    {
        if (_json is not null)
        {
            var length = payload.Length;
            var text = type == MessageType.Text ? Encoding.UTF8.GetString(payload) : Convert.ToBase64String(payload);
            _json.Write(w =>
            {
                JsonLines.WriteTimestamp(w, "ts", DateTimeOffset.UtcNow);
                w.WriteString("type", type == MessageType.Text ? "text" : "binary");
                if (type == MessageType.Binary)
                    w.WriteNumber("size", length);
                w.WriteString("data", text);
            });
            return;
        }
        lock (_lock)
        {
            _line.ResetWrittenCount();
            if (_prompt is not null)
                _line.Write("< "u8);
            if (type == MessageType.Binary)
                _line.Write(Encoding.ASCII.GetBytes(
                    $"[binary {payload.Length} bytes] base64:{Convert.ToBase64String(payload)}"));
            else if (_style == ReceivedStyle.Raw)
                _line.Write(payload);
            else
                TerminalText.WriteEscaped(payload, _line);
            WriteLineLocked();
        }
    }

    /// <summary>
    /// An interactive session's note ("pong after 1.2 ms", "closed with 1000 (normal closure)"); else nothing.
    /// </summary>
    public void Note(string text)
    {
        if (_prompt is null || _json is not null)
            return;
        lock (_lock)
        {
            _line.ResetWrittenCount();
            _line.Write(Encoding.UTF8.GetBytes($"* {text}"));
            WriteLineLocked();
        }
    }

    private void WriteLineLocked()
    {
        if (_prompt is not null)
        {
            _prompt.WriteAbove(_line.WrittenSpan);
            return;
        }
        _line.Write("\n"u8);
        _stdout.Write(_line.WrittenSpan);
        _stdout.Flush();
    }
}
