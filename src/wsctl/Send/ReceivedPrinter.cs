using System.Text;
using WsCore.WebSockets.Protocol;
using Wsctl.Cli;

namespace Wsctl.Send;

/// <summary>Prints received messages: text as is, binary as <c>[binary N bytes] base64:…</c>, or JSON lines.</summary>
public sealed class ReceivedPrinter
{
    private readonly Stream _stdout;
    private readonly JsonLines? _json;

    public ReceivedPrinter(Stream stdout, JsonLines? json)
    {
        _stdout = stdout;
        _json = json;
    }

    public void Print(MessageType type, ReadOnlySpan<byte> payload, string? source = null)
    {
        if (_json is not null)
        {
            var text = type == MessageType.Text ? Encoding.UTF8.GetString(payload) : Convert.ToBase64String(payload);
            var length = payload.Length;
            _json.Write(w =>
            {
                w.WriteString("ts", JsonLines.Timestamp(DateTimeOffset.UtcNow));
                w.WriteString("type", type == MessageType.Text ? "text" : "binary");
                if (source is not null)
                    w.WriteString("from", source);
                w.WriteString("data", text);
                if (type == MessageType.Binary)
                    w.WriteNumber("bytes", length);
            });
            return;
        }
        if (type == MessageType.Text)
            _stdout.Write(payload);
        else
            _stdout.Write(Encoding.ASCII.GetBytes($"[binary {payload.Length} bytes] " +
                $"base64:{Convert.ToBase64String(payload)}"));
        _stdout.Write("\n"u8);
        _stdout.Flush();
    }
}
