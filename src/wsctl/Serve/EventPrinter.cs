using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;

namespace Wsctl.Serve;

/// <summary>
/// Renders server events on stdout. Plain: one line per received message (text as is, binary as
/// <c>[binary N bytes] base64:…</c>); opens and closes go to the log only. JSON: one object per line for every event.
/// </summary>
public sealed class EventPrinter
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Keeps non-ASCII text and characters like '<' readable; quotes and control characters are still escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly Stream _output;
    private readonly bool _json;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly string? _instance;

    /// <param name="output">Where the lines go.</param>
    /// <param name="json">One JSON object per event instead of plain lines.</param>
    /// <param name="instance">In a cluster, this instance's name: every JSON event carries it as "instance".</param>
    public EventPrinter(Stream output, bool json, string? instance = null)
    {
        _output = output;
        _json = json;
        _instance = instance;
    }

    /// <summary>Writes the event's line (if it has one) into the pending output; <see cref="Flush"/> sends it.</summary>
    public void Write(ServerEvent serverEvent)
    {
        if (_json)
            WriteJson(serverEvent);
        else if (serverEvent is MessageReceived message)
            WritePlain(message);
    }

    /// <summary>Writes out everything pending (the caller flushes per line, or once per burst of events).</summary>
    public void Flush()
    {
        if (_buffer.WrittenCount == 0)
            return;
        _output.Write(_buffer.WrittenSpan);
        _output.Flush();
        _buffer.ResetWrittenCount();
    }

    private void WritePlain(MessageReceived message)
    {
        if (message.Type == MessageType.Text)
        {
            _buffer.Write(message.Payload.Span);
        }
        else
        {
            var prefix = Encoding.ASCII.GetBytes($"[binary {message.Payload.Length} bytes] base64:");
            _buffer.Write(prefix);
            var target = _buffer.GetSpan(Base64Length(message.Payload.Length));
            System.Buffers.Text.Base64.EncodeToUtf8(message.Payload.Span, target, out _, out var written);
            _buffer.Advance(written);
        }
        _buffer.Write("\n"u8);
    }

    private void WriteJson(ServerEvent serverEvent)
    {
        using (var json = new Utf8JsonWriter(_buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("ts", serverEvent.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            switch (serverEvent)
            {
                case ClientConnected opened:
                    WriteClient(json, "open", serverEvent);
                    json.WriteString("path", opened.Path);
                    if (opened.Subprotocol is not null)
                        json.WriteString("subprotocol", opened.Subprotocol);
                    break;
                case MessageReceived { Type: MessageType.Text } text:
                    WriteClient(json, "text", serverEvent);
                    json.WriteString("data", text.Payload.Span);
                    break;
                case MessageReceived binary:
                    WriteClient(json, "binary", serverEvent);
                    json.WriteNumber("size", binary.Payload.Length);
                    json.WriteBase64String("data", binary.Payload.Span);
                    break;
                case ClientDisconnected closed:
                    WriteClient(json, "close", serverEvent);
                    json.WriteNumber("code", closed.CloseCode);
                    json.WriteString("reason", closed.CloseReason);
                    json.WriteString("by", closed.InitiatedByServer ? "server" : "client");
                    break;
            }
            json.WriteEndObject();
        }
        _buffer.Write("\n"u8);
    }

    private void WriteClient(Utf8JsonWriter json, string type, ServerEvent serverEvent)
    {
        json.WriteString("type", type);
        json.WriteNumber("client", serverEvent.ClientId);
        if (_instance is not null)
            json.WriteString("instance", _instance);
        json.WriteString("remote", serverEvent.RemoteEndPoint.ToString());
    }

    private static int Base64Length(int bytes) => (bytes + 2) / 3 * 4;
}
