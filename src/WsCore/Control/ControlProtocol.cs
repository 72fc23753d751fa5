using System.Buffers;
using System.Text;
using System.Text.Json;

namespace WsCore.Control;

/// <summary>What a control request asks of a running server.</summary>
public enum ControlOperation
{
    /// <summary>Send a message to every connected client.</summary>
    Broadcast,
    /// <summary>Send a message to one client, by id.</summary>
    Send,
    /// <summary>List the connected clients.</summary>
    List,
}

/// <summary>One request on the control channel.</summary>
/// <param name="Operation">What to do.</param>
/// <param name="ClientId">The target of <see cref="ControlOperation.Send"/>.</param>
/// <param name="Payload">The message bytes (UTF-8 text, or binary).</param>
/// <param name="Binary">Whether the message is binary.</param>
public sealed record ControlRequest(
    ControlOperation Operation, int ClientId, ReadOnlyMemory<byte> Payload, bool Binary);

/// <summary>A connected client as the control channel reports it (in a cluster, with the instance it is on).</summary>
public sealed record ControlClientInfo(int Id, string Remote, DateTimeOffset ConnectedSince, long MessagesIn,
    long MessagesOut, string? Instance = null);

/// <summary>The answer to a request: ok with a delivery count and/or a client list, or an error.</summary>
public sealed record ControlResponse(bool Ok, int Delivered, IReadOnlyList<ControlClientInfo>? Clients, string? Error)
{
    public static ControlResponse Failure(string error) => new(false, 0, null, error);
}

/// <summary>
/// The control channel's wire format: one JSON object per line, request then response, over a local stream socket.
/// Pure encoding and decoding, no I/O.
/// <code>
/// {"op":"broadcast","text":"hello"}          → {"ok":true,"delivered":3}
/// {"op":"send","client":2,"base64":"AAEC"}   → {"ok":false,"error":"no client 2 is connected"}
/// {"op":"list"}                              → {"ok":true,"clients":[{"id":1,"remote":"127.0.0.1:50000",...}]}
/// </code>
/// </summary>
public static class ControlProtocol
{
    /// <summary>
    /// Upper bound of one request line: a maximal WebSocket message, base64-encoded, plus the envelope.
    /// </summary>
    public const int MaxLineBytes = 24 * 1024 * 1024;

    public static byte[] EncodeRequest(ControlRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("op", request.Operation switch
            {
                ControlOperation.Broadcast => "broadcast",
                ControlOperation.Send => "send",
                _ => "list",
            });
            if (request.Operation == ControlOperation.Send)
                json.WriteNumber("client", request.ClientId);
            if (request.Operation != ControlOperation.List)
            {
                if (request.Binary)
                    json.WriteBase64String("base64", request.Payload.Span);
                else
                    json.WriteString("text", request.Payload.Span);
            }
            json.WriteEndObject();
        }
        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    /// <summary>Decodes one request line; a malformed one gives an error text instead.</summary>
    public static ControlRequest? DecodeRequest(ReadOnlySpan<byte> line, out string? error)
    {
        error = null;
        try
        {
            var reader = new Utf8JsonReader(line);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            var op = root.GetProperty("op").GetString();
            ReadOnlyMemory<byte> payload = default;
            var binary = false;
            if (root.TryGetProperty("base64", out var base64))
            {
                payload = base64.GetBytesFromBase64();
                binary = true;
            }
            else if (root.TryGetProperty("text", out var text))
            {
                payload = Encoding.UTF8.GetBytes(text.GetString() ?? "");
            }
            switch (op)
            {
                case "broadcast":
                    return new ControlRequest(ControlOperation.Broadcast, 0, payload, binary);
                case "send":
                    return new ControlRequest(
                        ControlOperation.Send, root.GetProperty("client").GetInt32(), payload, binary);
                case "list":
                    return new ControlRequest(ControlOperation.List, 0, default, false);
                default:
                    error = $"unknown operation '{op}'";
                    return null;
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException
            or FormatException)
        {
            error = "malformed request: " + e.Message;
            return null;
        }
    }

    public static byte[] EncodeResponse(ControlResponse response)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBoolean("ok", response.Ok);
            if (response.Error != null)
                json.WriteString("error", response.Error);
            if (response.Ok)
                json.WriteNumber("delivered", response.Delivered);
            if (response.Clients != null)
            {
                json.WriteStartArray("clients");
                foreach (var client in response.Clients)
                {
                    json.WriteStartObject();
                    json.WriteNumber("id", client.Id);
                    json.WriteString("remote", client.Remote);
                    json.WriteString("since", client.ConnectedSince);
                    json.WriteNumber("in", client.MessagesIn);
                    json.WriteNumber("out", client.MessagesOut);
                    if (client.Instance is not null)
                        json.WriteString("instance", client.Instance);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    public static ControlResponse DecodeResponse(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var ok = root.GetProperty("ok").GetBoolean();
        var error = root.TryGetProperty("error", out var e) ? e.GetString() : null;
        var delivered = root.TryGetProperty("delivered", out var d) ? d.GetInt32() : 0;
        List<ControlClientInfo>? clients = null;
        if (root.TryGetProperty("clients", out var list))
        {
            clients = [];
            foreach (var c in list.EnumerateArray())
            {
                clients.Add(new ControlClientInfo(
                    c.GetProperty("id").GetInt32(),
                    c.GetProperty("remote").GetString() ?? "",
                    c.GetProperty("since").GetDateTimeOffset(),
                    c.GetProperty("in").GetInt64(),
                    c.GetProperty("out").GetInt64(),
                    c.TryGetProperty("instance", out var instance) ? instance.GetString() : null));
            }
        }
        return new ControlResponse(ok, delivered, clients, error);
    }
}
