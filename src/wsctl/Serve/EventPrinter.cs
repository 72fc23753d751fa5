using System.Buffers;
using System.Text;
using System.Text.Json;
using WsCore.WebSockets.Protocol;
using WsCore.WebSockets.Server;
using WsCore.WebSockets.Tls;
using Wsctl.Cli;

namespace Wsctl.Serve;

/// <summary>
/// Renders server events on stdout. Plain: one line per received message (text with control characters escaped, or
/// as it came with raw; binary as <c>[binary N bytes] base64:…</c>); opens and closes go to the log only. JSON: one
/// object per line for every event (<see cref="JsonLines"/>).
/// </summary>
public sealed class EventPrinter
{
    private readonly JsonLines? _json;
    private readonly PendingOutput? _plain;
    private readonly string? _instance;
    private readonly bool _raw;

    /// <param name="output">Where the lines go.</param>
    /// <param name="json">One JSON object per event instead of plain lines.</param>
    /// <param name="instance">In a cluster, this instance's name: every JSON event carries it as "instance".</param>
    /// <param name="raw">Plain lines carry a client's text as it came, control characters included; by default
    /// they are escaped (<see cref="TerminalText"/>), so one message is one line and no client drives the
    /// terminal.</param>
    public EventPrinter(Stream output, bool json, string? instance = null, bool raw = false)
    {
        _instance = instance;
        _raw = raw;
        _json = json ? new JsonLines(output, 4096) : null;
        _plain = json ? null : new PendingOutput(output, 4096);
    }

    /// <summary>
    /// Writes the event's line (if it has one) into the pending output; <see cref="Flush"/> sends it.
    /// </summary>
    public void Write(ServerEvent serverEvent)
    {
        if (_json is not null)
            _json.Append((serverEvent, _instance), static (json, e) => WriteJson(json, e.serverEvent, e._instance));
        else if (serverEvent is MessageReceived received)
            WritePlain(received.Message);
    }

    /// <summary>
    /// With JSON, writes and flushes a <c>tls_certificate</c> object: the certificate serve presents, at start and
    /// after each reload (plain output has none: the log says it). Safe beside <see cref="Write"/> on another thread.
    /// </summary>
    public void WriteCertificate(ServerCertificate certificate, CertificateEvent reason) =>
        _json?.Write(json =>
        {
            JsonLines.WriteTimestamp(json, "ts", DateTimeOffset.UtcNow);
            json.WriteString("type", "tls_certificate");
            if (_instance is not null)
                json.WriteString("instance", _instance);
            json.WriteString("reason", reason == CertificateEvent.Start ? "start" : "reload");
            json.WriteBoolean("self_signed", certificate.SelfSigned);
            json.WriteString("fingerprint_sha256", certificate.Fingerprint);
            json.WriteString("spki_sha256", certificate.SpkiSha256);
            json.WriteStartArray("names");
            foreach (var name in certificate.Names)
                json.WriteStringValue(name);
            json.WriteEndArray();
            JsonLines.WriteTimestamp(json, "not_before", certificate.NotBefore);
            JsonLines.WriteTimestamp(json, "not_after", certificate.NotAfter);
        });

    /// <summary>The bytes written and not yet flushed.</summary>
    public int PendingBytes => _json?.PendingBytes ?? _plain!.Buffer.WrittenCount;

    /// <summary>Writes out everything pending (the caller flushes per line, or once per burst of events).</summary>
    public void Flush()
    {
        if (_json is not null)
            _json.Flush();
        else
            _plain!.Flush();
    }

    private void WritePlain(WebSocketMessage message) =>
        WritePlainLine(_plain!.Buffer, message.Type, message.Payload.Span, _raw);

    /// <summary>
    /// One received message as its plain line: text escaped by <see cref="TerminalText"/> (or as it came with
    /// <paramref name="raw"/>), binary as <c>[binary N bytes] base64:…</c>; then a newline.
    /// </summary>
    public static void WritePlainLine(IBufferWriter<byte> buffer, MessageType type, ReadOnlySpan<byte> payload,
        bool raw)
    {
        if (type == MessageType.Text)
        {
            if (raw)
                buffer.Write(payload);
            else
                TerminalText.WriteEscaped(payload, buffer);
        }
        else
        {
            buffer.Write("[binary "u8);
            System.Buffers.Text.Utf8Formatter.TryFormat(payload.Length, buffer.GetSpan(11), out var digits);
            buffer.Advance(digits);
            buffer.Write(" bytes] base64:"u8);
            var target = buffer.GetSpan(Base64Length(payload.Length));
            System.Buffers.Text.Base64.EncodeToUtf8(payload, target, out _, out var written);
            buffer.Advance(written);
        }
        buffer.Write("\n"u8);
    }

    private static void WriteJson(Utf8JsonWriter json, ServerEvent serverEvent, string? instance)
    {
        JsonLines.WriteTimestamp(json, "ts", serverEvent.Timestamp);
        switch (serverEvent)
        {
            case ClientConnected opened:
                WriteClient(json, instance, "open", serverEvent);
                json.WriteString("path", opened.Path);
                if (opened.Subprotocol is not null)
                    json.WriteString("subprotocol", opened.Subprotocol);
                break;
            case MessageReceived { Message.Type: MessageType.Text } text:
                WriteClient(json, instance, "text", serverEvent);
                json.WriteString("data", text.Message.Payload.Span);
                break;
            case MessageReceived binary:
                WriteClient(json, instance, "binary", serverEvent);
                json.WriteNumber("size", binary.Message.Payload.Length);
                json.WriteBase64String("data", binary.Message.Payload.Span);
                break;
            case ClientDisconnected closed:
                WriteClient(json, instance, "close", serverEvent);
                json.WriteNumber("code", closed.CloseCode);
                json.WriteString("reason", closed.CloseReason);
                json.WriteString("by", closed.InitiatedByServer ? "server" : "client");
                break;
        }
    }

    private static void WriteClient(Utf8JsonWriter json, string? instance, string type, ServerEvent serverEvent)
    {
        json.WriteString("type", type);
        json.WriteNumber("client", serverEvent.ClientId);
        if (instance is not null)
            json.WriteString("instance", instance);
        json.WriteString("remote", serverEvent.RemoteEndPoint.ToString());
    }

    private static int Base64Length(int bytes) => (bytes + 2) / 3 * 4;
}

/// <summary>Why serve reports its TLS certificate.</summary>
public enum CertificateEvent
{
    /// <summary>The certificate it started with.</summary>
    Start,
    /// <summary>A certificate reloaded on SIGHUP.</summary>
    Reload,
}
