using System.Security.Cryptography;
using System.Text;

namespace WsCore.WebSockets.Protocol;

/// <summary>The client side of the opening handshake (RFC 6455 §4.1). No I/O.</summary>
public static class ClientHandshake
{
    /// <summary>A fresh <c>Sec-WebSocket-Key</c>: 16 random bytes, base64 (§4.1 item 7).</summary>
    public static string CreateKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

    /// <summary>The opening request for <paramref name="uri"/> (ws or wss scheme; path and query kept).</summary>
    /// <param name="uri">The server's URL.</param>
    /// <param name="key">From <see cref="CreateKey"/>.</param>
    /// <param name="subprotocols">Subprotocols to offer, most preferred first; may be empty.</param>
    /// <param name="origin">An <c>Origin</c> header value, or null.</param>
    /// <param name="headers">Further headers (name, value).</param>
    /// <param name="compression">True to offer permessage-deflate (<see cref="PerMessageDeflate.ClientOffer"/>).
    /// </param>
    public static byte[] BuildRequest(
        Uri uri,
        string key,
        IReadOnlyList<string>? subprotocols = null,
        string? origin = null,
        IEnumerable<KeyValuePair<string, string>>? headers = null,
        bool compression = false)
    {
        var secure = uri.Scheme is "wss" or "https";
        var host = uri.IdnHost.Contains(':') ? $"[{uri.IdnHost}]" : uri.IdnHost;
        if (!uri.IsDefaultPort && uri.Port != (secure ? 443 : 80))
            host += ":" + uri.Port;
        var target = string.IsNullOrEmpty(uri.PathAndQuery) ? "/" : uri.PathAndQuery;
        var text = new StringBuilder()
            .Append("GET ").Append(target).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(host).Append("\r\n")
            .Append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
            .Append("Sec-WebSocket-Key: ").Append(key).Append("\r\n")
            .Append("Sec-WebSocket-Version: 13\r\n");
        if (subprotocols is { Count: > 0 })
            text.Append("Sec-WebSocket-Protocol: ").Append(string.Join(", ", subprotocols)).Append("\r\n");
        if (compression)
            text.Append("Sec-WebSocket-Extensions: ").Append(PerMessageDeflate.ClientOffer).Append("\r\n");
        if (origin is not null)
            text.Append("Origin: ").Append(origin).Append("\r\n");
        foreach (var (name, value) in headers ?? [])
            text.Append(name).Append(": ").Append(value).Append("\r\n");
        text.Append("\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>
    /// Checks the server's answer (§4.1, items 1-6 of the client's validation): status 101, <c>Upgrade: websocket</c>,
    /// <c>Connection: Upgrade</c>, the accept key, and a subprotocol only if one was offered. Returns null when it is
    /// acceptable, else what is wrong (starting with the status for a non-101 answer, e.g. "503 Service Unavailable").
    /// </summary>
    public static string? Validate(
        HttpResponseHead response, string key, IReadOnlyList<string>? offeredSubprotocols, out string? subprotocol) =>
        Validate(response, key, offeredSubprotocols, offeredCompression: false, out subprotocol, out _);

    /// <summary>
    /// <see cref="Validate(HttpResponseHead, string, IReadOnlyList{string}?, out string?)"/>, and the extensions too
    /// (§4.1 item 5: one not offered fails the connection): <paramref name="deflate"/> is what permessage-deflate
    /// negotiated, or null when the server declined it (RFC 7692 §7.1).
    /// </summary>
    public static string? Validate(
        HttpResponseHead response,
        string key,
        IReadOnlyList<string>? offeredSubprotocols,
        bool offeredCompression,
        out string? subprotocol,
        out DeflateParameters? deflate)
    {
        subprotocol = null;
        deflate = null;
        if (response.StatusCode != 101)
            return DescribeRefusal(response, default).Message;
        if (!response.HasToken("Upgrade", "websocket"))
            return "101 response without Upgrade: websocket";
        if (!response.HasToken("Connection", "Upgrade"))
            return "101 response without Connection: Upgrade";
        if (response.Get("Sec-WebSocket-Accept")?.Trim() != ServerHandshake.ComputeAccept(key))
            return "101 response with a wrong Sec-WebSocket-Accept";
        subprotocol = response.Get("Sec-WebSocket-Protocol")?.Trim();
        if (subprotocol is not null && (offeredSubprotocols is null || !offeredSubprotocols.Contains(subprotocol)))
            return $"server selected subprotocol '{subprotocol}', which was not offered";
        return PerMessageDeflate.CheckResponse(
            response.GetAll("Sec-WebSocket-Extensions"), offeredCompression, out deflate);
    }

    /// <summary>Bytes of a refusal's body worth reading for its first line.</summary>
    public const int RefusalBodyBytes = 512;

    /// <summary>
    /// Why a server answered the opening handshake with something other than 101, in the user's terms: the status
    /// with its reason phrase and the first line of the body ("403 Forbidden: origin not allowed"); a server that
    /// answered as to a plain HTTP request is "not a WebSocket server (HTTP 200 OK)"; a 404 says there is no
    /// WebSocket at that path; a redirect names where it points. No I/O: <paramref name="body"/> is what arrived of
    /// the body (up to <see cref="RefusalBodyBytes"/>).
    /// </summary>
    public static (string Message, string? Hint) DescribeRefusal(HttpResponseHead response, ReadOnlySpan<byte> body)
    {
        var code = response.StatusCode;
        var status = response.Status.Trim();
        if (status.Length <= 3 && ServerHandshake.ReasonPhrase(code) is { Length: > 0 } phrase)
            status = $"{code} {phrase}";
        var detail = FirstLine(body);
        var withDetail = detail is null ? status : $"{status}: {detail}";
        return code switch
        {
            >= 200 and < 300 => ($"not a WebSocket server (HTTP {status})",
                "it answered as a web server does: check the port and the path"),
            >= 300 and < 400 => ($"not a WebSocket server here (HTTP {status}" +
                (response.Get("Location") is { } location ? $", to {location.Trim()})" : ")"),
                "use the address it redirects to"),
            404 => ($"no WebSocket at this path (HTTP {withDetail})", "check the path"),
            503 => (withDetail, "the server is full (too many clients); retry later"),
            _ => (withDetail, null),
        };
    }

    // The body's first line, printable and short, or null when there is none worth showing.
    private static string? FirstLine(ReadOnlySpan<byte> body)
    {
        var end = body.IndexOfAny((byte)'\r', (byte)'\n');
        var line = Encoding.UTF8.GetString(end >= 0 ? body[..end] : body).Trim();
        if (line.Length == 0 || line.StartsWith('<'))
            return null; // an HTML page says nothing in its first line
        var shown = new StringBuilder();
        foreach (var c in line.Length > 160 ? line[..157] + "..." : line)
            shown.Append(char.IsControl(c) ? '?' : c);
        return shown.ToString();
    }
}
