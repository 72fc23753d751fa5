using System.Text;

namespace WsCore.WebSockets.Protocol;

/// <summary>What the server should do with a request head.</summary>
public enum HandshakeOutcome
{
    /// <summary>A valid WebSocket upgrade: answer 101 (<see cref="ServerHandshake.BuildUpgradeResponse"/>).</summary>
    Upgrade,
    /// <summary>A plain HTTP request (no <c>Upgrade: websocket</c>): serve a page, or 404.</summary>
    PageRequest,
    /// <summary>A broken upgrade: answer <see cref="HandshakeDecision.StatusCode"/> and close.</summary>
    Reject,
}

/// <summary>The server's verdict on a request head.</summary>
/// <param name="Outcome">Upgrade, page request or rejection.</param>
/// <param name="StatusCode">101 for an upgrade, 200 for a page request, else the error status (400, 405, 426).</param>
/// <param name="Detail">Why it was rejected (for the response body and logs).</param>
/// <param name="Accept">The <c>Sec-WebSocket-Accept</c> value for an upgrade.</param>
/// <param name="Subprotocol">The selected subprotocol, or null.</param>
/// <param name="Extensions">The <c>Sec-WebSocket-Extensions</c> answer (permessage-deflate accepted), or null.</param>
/// <param name="Deflate">What permessage-deflate negotiated, or null when it is not in use.</param>
public sealed record HandshakeDecision(
    HandshakeOutcome Outcome,
    int StatusCode,
    string Detail,
    string? Accept = null,
    string? Subprotocol = null,
    string? Extensions = null,
    DeflateParameters? Deflate = null);

/// <summary>The server side of the opening handshake (RFC 6455 §4.2). No I/O.</summary>
public static class ServerHandshake
{
    /// <summary>The GUID of §1.3 that the accept key is computed with.</summary>
    public const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>The one protocol version this implementation speaks (§4.4).</summary>
    public const string SupportedVersion = "13";

    /// <summary><c>base64(SHA-1(key + GUID))</c> (§1.3, §4.2.2 item 5.4).</summary>
    public static string ComputeAccept(string key)
    {
        // key + GUID, hashed from the stack: a server computes this once per connection.
        Span<byte> input = stackalloc byte[Encoding.ASCII.GetMaxByteCount(key.Length) + Guid.Length];
        var length = Encoding.ASCII.GetBytes(key, input);
        length += Encoding.ASCII.GetBytes(Guid, input[length..]);
        Span<byte> hash = stackalloc byte[Sha1.HashSizeInBytes];
        Sha1.HashData(input[..length], hash);
        return Convert.ToBase64String(hash);
    }

    /// <summary>True when <paramref name="key"/> is base64 of exactly 16 bytes (§4.1 item 7, §4.2.1 item 5).</summary>
    public static bool IsValidKey(string? key)
    {
        if (key is null || key.Length != 24)
            return false;
        Span<byte> decoded = stackalloc byte[18];
        return Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }

    /// <summary>
    /// Decides what to do with a request (§4.2.1): header names are case-insensitive, <c>Connection</c> is a token
    /// list that must hold <c>Upgrade</c>, <c>Upgrade</c> must hold <c>websocket</c> (any case), <c>Host</c> is
    /// required, <c>Sec-WebSocket-Version</c> must be 13 (else 426, §4.4), and the key must be 16 bytes of base64.
    /// A request without <c>Upgrade: websocket</c> is a page request.
    /// </summary>
    /// <param name="request">The parsed request head.</param>
    /// <param name="subprotocols">The server's subprotocols, most preferred first; the first one the client offers is
    /// selected (§4.2.2 item 5.4).</param>
    /// <param name="compression">True to accept a permessage-deflate offer (RFC 7692); false declines every
    /// extension.</param>
    public static HandshakeDecision Evaluate(
        HttpRequestHead request, IReadOnlyList<string>? subprotocols = null, bool compression = false)
    {
        if (!request.HasToken("Upgrade", "websocket"))
        {
            return request.Method is "GET" or "HEAD"
                ? new(HandshakeOutcome.PageRequest, 200, "page request")
                : new(HandshakeOutcome.Reject, 405, "method not allowed");
        }
        if (request.Method != "GET")
            return new(HandshakeOutcome.Reject, 400, "a WebSocket upgrade must be a GET request");
        if (request.Version != "HTTP/1.1")
            return new(HandshakeOutcome.Reject, 400, "a WebSocket upgrade needs HTTP/1.1");
        if (string.IsNullOrWhiteSpace(request.Get("Host")))
            return new(HandshakeOutcome.Reject, 400, "missing Host header");
        if (!request.HasToken("Connection", "Upgrade"))
            return new(HandshakeOutcome.Reject, 400, "Connection header does not contain Upgrade");
        if (request.Get("Sec-WebSocket-Version")?.Trim() != SupportedVersion)
            return new(HandshakeOutcome.Reject, 426, "unsupported Sec-WebSocket-Version (this server speaks 13)");
        var key = request.Get("Sec-WebSocket-Key")?.Trim();
        if (!IsValidKey(key))
            return new(
                HandshakeOutcome.Reject,
                400,
                key is null ? "missing Sec-WebSocket-Key" : "Sec-WebSocket-Key is not 16 bytes of base64");
        string? selected = null;
        if (subprotocols is { Count: > 0 })
        {
            var offered = request.GetList("Sec-WebSocket-Protocol").ToHashSet(StringComparer.Ordinal);
            selected = subprotocols.FirstOrDefault(offered.Contains);
        }
        string? extensions = null;
        var deflate = compression
            ? PerMessageDeflate.Accept(request.GetAll("Sec-WebSocket-Extensions"), out extensions)
            : null;
        return new(HandshakeOutcome.Upgrade, 101, "upgrade", ComputeAccept(key!), selected, extensions, deflate);
    }

    /// <summary>The 101 response completing the handshake (§4.2.2 item 5).</summary>
    public static byte[] BuildUpgradeResponse(string accept, string? subprotocol, string? extensions = null)
    {
        ReadOnlySpan<byte> start =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "u8;
        ReadOnlySpan<byte> protocol = "\r\nSec-WebSocket-Protocol: "u8;
        ReadOnlySpan<byte> extension = "\r\nSec-WebSocket-Extensions: "u8;
        var length = start.Length + accept.Length + (subprotocol is null ? 0 : protocol.Length + subprotocol.Length)
            + (extensions is null ? 0 : extension.Length + extensions.Length) + 4;
        // Written straight into the one array sent: no intermediate string per connection.
        var response = new byte[length];
        var at = 0;
        start.CopyTo(response);
        at += start.Length;
        at += Encoding.ASCII.GetBytes(accept, response.AsSpan(at));
        if (subprotocol is not null)
        {
            protocol.CopyTo(response.AsSpan(at));
            at += protocol.Length;
            at += Encoding.ASCII.GetBytes(subprotocol, response.AsSpan(at));
        }
        if (extensions is not null)
        {
            extension.CopyTo(response.AsSpan(at));
            at += extension.Length;
            at += Encoding.ASCII.GetBytes(extensions, response.AsSpan(at));
        }
        "\r\n\r\n"u8.CopyTo(response.AsSpan(at));
        return response;
    }

    /// <summary>
    /// A complete HTTP/1.1 response with <c>Content-Length</c> and <c>Connection: close</c> (the server closes after
    /// every non-upgrade response), and a plain-text body unless one is given.
    /// </summary>
    /// <param name="statusCode">The status, e.g. 404.</param>
    /// <param name="body">The body; for errors, a one-line explanation.</param>
    /// <param name="contentType">The body's media type.</param>
    /// <param name="extraHeaders">Further header lines without CRLF, e.g. <c>Retry-After: 5</c>.</param>
    /// <param name="headOnly">True for a HEAD request: the head alone, with the body's length.</param>
    public static byte[] BuildResponse(
        int statusCode,
        ReadOnlySpan<byte> body,
        string contentType = "text/plain; charset=utf-8",
        IEnumerable<string>? extraHeaders = null,
        bool headOnly = false)
    {
        var head = new StringBuilder();
        head.Append("HTTP/1.1 ").Append(statusCode).Append(' ').Append(ReasonPhrase(statusCode)).Append("\r\n");
        head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        head.Append("Cache-Control: no-store\r\n");
        foreach (var line in extraHeaders ?? [])
            head.Append(line).Append("\r\n");
        head.Append("Connection: close\r\n\r\n");
        var headBytes = Encoding.ASCII.GetBytes(head.ToString());
        if (headOnly)
            return headBytes;
        var response = new byte[headBytes.Length + body.Length];
        headBytes.CopyTo(response, 0);
        body.CopyTo(response.AsSpan(headBytes.Length));
        return response;
    }

    /// <summary>
    /// A plain-text error response; 426 gets <c>Sec-WebSocket-Version: 13</c> and <c>Upgrade: websocket</c> (§4.4).
    /// </summary>
    public static byte[] BuildErrorResponse(int statusCode, string detail, IEnumerable<string>? extraHeaders = null)
    {
        var headers = new List<string>(extraHeaders ?? []);
        if (statusCode == 426)
        {
            headers.Add("Sec-WebSocket-Version: " + SupportedVersion);
            headers.Add("Upgrade: websocket");
        }
        return BuildResponse(statusCode, Encoding.UTF8.GetBytes(detail + "\n"), extraHeaders: headers);
    }

    /// <summary>
    /// The reason phrase RFC 9110 §15 gives a status (empty for one it does not name: RFC 9112 §4 allows an empty
    /// reason phrase, and a made-up one would mislead).
    /// </summary>
    public static string ReasonPhrase(int statusCode) => statusCode switch
    {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    };
}
