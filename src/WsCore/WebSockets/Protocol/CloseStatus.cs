namespace WsCore.WebSockets.Protocol;

/// <summary>Close status codes (RFC 6455 §7.4.1) and the rules for which may appear on the wire (§7.4.2).</summary>
public static class CloseStatus
{
    /// <summary>1000: the purpose of the connection was fulfilled.</summary>
    public const ushort NormalClosure = 1000;
    /// <summary>1001: the endpoint is going away (server shutdown, page navigated away).</summary>
    public const ushort GoingAway = 1001;
    /// <summary>1002: protocol error.</summary>
    public const ushort ProtocolError = 1002;
    /// <summary>1003: a data type the endpoint cannot accept.</summary>
    public const ushort UnsupportedData = 1003;
    /// <summary>1005: reported locally when a Close frame carried no code; never sent.</summary>
    public const ushort NoStatusReceived = 1005;
    /// <summary>1006: reported locally when the connection ended without a Close frame; never sent.</summary>
    public const ushort AbnormalClosure = 1006;
    /// <summary>1007: data inconsistent with the message type (invalid UTF-8 in a text message).</summary>
    public const ushort InvalidPayloadData = 1007;
    /// <summary>1008: policy violation (here: a client too slow to keep up with its outgoing queue).</summary>
    public const ushort PolicyViolation = 1008;
    /// <summary>1009: a message too big to process.</summary>
    public const ushort MessageTooBig = 1009;
    /// <summary>1010: the client expected an extension the server did not negotiate.</summary>
    public const ushort MandatoryExtension = 1010;
    /// <summary>1011: an unexpected condition in the server.</summary>
    public const ushort InternalServerError = 1011;
    /// <summary>1012: service restart (IANA registry).</summary>
    public const ushort ServiceRestart = 1012;
    /// <summary>1013: try again later (IANA registry).</summary>
    public const ushort TryAgainLater = 1013;
    /// <summary>1015: reported locally for a TLS handshake failure; never sent.</summary>
    public const ushort TlsHandshakeFailure = 1015;

    /// <summary>
    /// True when <paramref name="code"/> may be sent in a Close frame: 1000-1003 and 1007-1011 (§7.4.1), 1012-1014
    /// (registered with IANA since), and 3000-4999 (libraries and applications, §7.4.2). 0-999 are unused,
    /// 1004-1006 and 1015 are reserved and must never be on the wire, and 1016-2999 are reserved for the RFC's
    /// future extensions.
    /// </summary>
    public static bool IsValidOnWire(int code) => code is >= 1000 and <= 1003 or >= 1007 and <= 1014
        or >= 3000 and <= 4999;

    /// <summary>
    /// Whether a connection that closed with <paramref name="code"/> ended as a peer means it to end normally: 1000,
    /// 1001 (going away: a server shutting down), and 1005, a Close frame with no body. RFC 6455 §5.5.1 allows that
    /// body to be empty, and ESP-IDF's <c>esp_http_server</c> (httpd_ws, what most ESP32 devices run) answers every
    /// Close that way: a clean end, not a failure.
    /// </summary>
    public static bool IsNormalEnd(int code) => code is NormalClosure or GoingAway or NoStatusReceived;

    /// <summary>"1000 (normal closure)", "1011 (internal server error)", with ": reason" when there is one.</summary>
    public static string Format(int code, string? reason = null) =>
        $"{code} ({Describe(code)})" + (string.IsNullOrEmpty(reason) ? "" : $": {reason}");

    /// <summary>
    /// How a connection closed, to follow "closed" in a sentence: "with 1011 (internal server error): reason", or
    /// "without a status code (1005)" for a Close frame with no body.
    /// </summary>
    public static string Phrase(int code, string? reason = null) =>
        code == NoStatusReceived ? "without a status code (1005)" : "with " + Format(code, reason);

    /// <summary>A short English name for logs and JSON output.</summary>
    public static string Describe(int code) => code switch
    {
        NormalClosure => "normal closure",
        GoingAway => "going away",
        ProtocolError => "protocol error",
        UnsupportedData => "unsupported data",
        NoStatusReceived => "no status code",
        AbnormalClosure => "abnormal closure (no close frame)",
        InvalidPayloadData => "invalid payload data",
        PolicyViolation => "policy violation",
        MessageTooBig => "message too big",
        MandatoryExtension => "mandatory extension",
        InternalServerError => "internal server error",
        ServiceRestart => "service restart",
        TryAgainLater => "try again later",
        TlsHandshakeFailure => "TLS handshake failure",
        _ => "application code",
    };
}
