using System.Text;

namespace WsCore.WebSockets.Protocol;

/// <summary>Outcome of parsing an HTTP/1.1 message head.</summary>
public enum HttpParseStatus
{
    /// <summary>No blank line yet: read more bytes and parse all of them again.</summary>
    NeedMoreData,
    /// <summary>A head was parsed.</summary>
    Complete,
    /// <summary>No blank line within the size limit (answer 431).</summary>
    TooLarge,
    /// <summary>Not an HTTP/1.x message head (answer 400).</summary>
    Malformed,
}

/// <summary>Header fields of an HTTP/1.1 message, looked up case-insensitively (RFC 9110 §5.1).</summary>
public abstract class HttpHead
{
    private readonly List<KeyValuePair<string, string>> _fields;

    private protected HttpHead(List<KeyValuePair<string, string>> fields) => _fields = fields;

    /// <summary>Every field in arrival order, names as sent.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields => _fields;

    /// <summary>The value of the first field called <paramref name="name"/>, or null.</summary>
    public string? Get(string name)
    {
        foreach (var field in _fields)
        {
            if (string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase))
                return field.Value;
        }
        return null;
    }

    /// <summary>
    /// The value of the field called <paramref name="name"/> when there is exactly one; null when there is none
    /// or several (a field that must be single, such as Origin, RFC 6454 §7.3).
    /// </summary>
    public string? GetSingle(string name, out int count)
    {
        string? value = null;
        count = 0;
        foreach (var field in _fields)
        {
            if (!string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase))
                continue;
            count++;
            value = count == 1 ? field.Value : null;
        }
        return value;
    }

    /// <summary>The values of every field called <paramref name="name"/>, in arrival order, as sent.</summary>
    public List<string> GetAll(string name)
    {
        var values = new List<string>();
        foreach (var field in _fields)
        {
            if (string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase))
                values.Add(field.Value);
        }
        return values;
    }

    /// <summary>
    /// The comma-separated elements of every field called <paramref name="name"/>, trimmed, empty ones dropped
    /// (RFC 9110 §5.6.1: a list may be split over several lines or written on one).
    /// </summary>
    public IEnumerable<string> GetList(string name)
    {
        foreach (var field in _fields)
        {
            if (!string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase))
                continue;
            foreach (var element in field.Value.Split(
                ',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                yield return element;
        }
    }

    /// <summary>
    /// True when the list field <paramref name="name"/> holds <paramref name="token"/>, compared case-insensitively.
    /// </summary>
    public bool HasToken(string name, string token)
    {
        foreach (var field in _fields)
        {
            if (!string.Equals(field.Key, name, StringComparison.OrdinalIgnoreCase))
                continue;
            // Walks the comma-separated list in place: every handshake asks this, so it allocates nothing.
            var rest = field.Value.AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var element = (comma < 0 ? rest : rest[..comma]).Trim(" \t");
                if (element.Equals(token, StringComparison.OrdinalIgnoreCase))
                    return true;
                rest = comma < 0 ? default : rest[(comma + 1)..];
            }
        }
        return false;
    }

    // Finds the head's end, checks its size and splits it into a start line and header fields (RFC 9112 §2-§5). Works
    // on the bytes: each name and value becomes one string (a common one none at all), with no copy of the whole head
    // or of each line on the way; a server pays this once per connection, thousands of times in a connect storm.
    private protected static HttpParseStatus Split(ReadOnlySpan<byte> buffer, int maxHeadBytes,
        out ReadOnlySpan<byte> startLine, out List<KeyValuePair<string, string>> fields, out int headLength)
    {
        startLine = default;
        fields = [];
        headLength = 0;
        var end = buffer.IndexOf("\r\n\r\n"u8);
        if (end < 0)
            return buffer.Length >= maxHeadBytes ? HttpParseStatus.TooLarge : HttpParseStatus.NeedMoreData;
        if (end + 4 > maxHeadBytes)
            return HttpParseStatus.TooLarge;
        headLength = end + 4;
        var head = buffer[..end];
        var firstBreak = head.IndexOf("\r\n"u8);
        startLine = firstBreak < 0 ? head : head[..firstBreak];
        if (firstBreak < 0)
            return HttpParseStatus.Complete;
        var rest = head[(firstBreak + 2)..];
        fields.Capacity = rest.Count("\r\n"u8) + 1;
        while (true)
        {
            var lineBreak = rest.IndexOf("\r\n"u8);
            var line = lineBreak < 0 ? rest : rest[..lineBreak];
            // Obsolete line folding (RFC 9112 §5.2) and whitespace before the colon (§5.1) are refused.
            if (line.IsEmpty || line[0] is (byte)' ' or (byte)'\t')
                return HttpParseStatus.Malformed;
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[colon - 1] is (byte)' ' or (byte)'\t')
                return HttpParseStatus.Malformed;
            fields.Add(new(Text(line[..colon]), Text(line[(colon + 1)..].Trim(" \t"u8))));
            if (lineBreak < 0)
                return HttpParseStatus.Complete;
            rest = rest[(lineBreak + 2)..];
        }
    }

    // Names and values every WebSocket handshake carries, so they need no string of their own.
    private static readonly string[] CommonText =
    [
        "Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Accept",
        "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Origin", "User-Agent", "Accept", "Accept-Encoding",
        "Accept-Language", "Cache-Control", "Pragma", "Content-Type", "Content-Length", "Retry-After",
        "websocket", "keep-alive, Upgrade", "13", "no-cache", "close", "GET", "HEAD", "HTTP/1.1", "/",
    ];

    // Header bytes are ASCII; Latin-1 keeps any stray byte as one char so nothing is lost or thrown.
    private protected static string Text(ReadOnlySpan<byte> bytes)
    {
        foreach (var common in CommonText)
        {
            if (common.Length == bytes.Length && Ascii.Equals(bytes, common))
                return common;
        }
        return Encoding.Latin1.GetString(bytes);
    }
}

/// <summary>An HTTP/1.1 request head: request line and header fields.</summary>
public sealed class HttpRequestHead : HttpHead
{
    private HttpRequestHead(string method, string target, string version, List<KeyValuePair<string, string>> fields)
        : base(fields)
    {
        Method = method;
        Target = target;
        Version = version;
    }

    /// <summary>The method, e.g. <c>GET</c>.</summary>
    public string Method { get; }

    /// <summary>The request target as sent, e.g. <c>/chat?room=1</c>.</summary>
    public string Target { get; }

    /// <summary>The target without its query.</summary>
    public string Path => Target.IndexOf('?') is var q and >= 0 ? Target[..q] : Target;

    /// <summary>The protocol version, e.g. <c>HTTP/1.1</c>.</summary>
    public string Version { get; }

    /// <summary>
    /// Parses a request head from the start of <paramref name="buffer"/> (which may hold bytes after the head:
    /// <paramref name="headLength"/> says where the head ends).
    /// </summary>
    public static HttpParseStatus TryParse(
        ReadOnlySpan<byte> buffer, int maxHeadBytes, out HttpRequestHead? head, out int headLength)
    {
        head = null;
        var status = Split(buffer, maxHeadBytes, out var startLine, out var fields, out headLength);
        if (status != HttpParseStatus.Complete)
            return status;
        // "METHOD SP TARGET SP VERSION" (RFC 9112 §3).
        var firstSpace = startLine.IndexOf((byte)' ');
        var lastSpace = startLine.LastIndexOf((byte)' ');
        if (firstSpace <= 0 || lastSpace <= firstSpace + 1 || startLine[(firstSpace + 1)..lastSpace].Contains((byte)' ')
            || !startLine[(lastSpace + 1)..].StartsWith("HTTP/1."u8))
            return HttpParseStatus.Malformed;
        head = new HttpRequestHead(Text(startLine[..firstSpace]), Text(startLine[(firstSpace + 1)..lastSpace]),
            Text(startLine[(lastSpace + 1)..]), fields);
        return HttpParseStatus.Complete;
    }

}

/// <summary>An HTTP/1.1 response head: status line and header fields.</summary>
public sealed class HttpResponseHead : HttpHead
{
    private HttpResponseHead(string statusLine, int statusCode, List<KeyValuePair<string, string>> fields)
        : base(fields)
    {
        StatusLine = statusLine;
        StatusCode = statusCode;
    }

    /// <summary>The whole status line, e.g. <c>HTTP/1.1 503 Service Unavailable</c>.</summary>
    public string StatusLine { get; }

    /// <summary>The status code, e.g. 101.</summary>
    public int StatusCode { get; }

    /// <summary>The status code and reason phrase, e.g. <c>503 Service Unavailable</c>.</summary>
    public string Status => StatusLine.IndexOf(' ') is var space and >= 0 ? StatusLine[(space + 1)..] : StatusLine;

    /// <summary>Parses a response head from the start of <paramref name="buffer"/>.</summary>
    public static HttpParseStatus TryParse(
        ReadOnlySpan<byte> buffer, int maxHeadBytes, out HttpResponseHead? head, out int headLength)
    {
        head = null;
        var status = Split(buffer, maxHeadBytes, out var startLine, out var fields, out headLength);
        if (status != HttpParseStatus.Complete)
            return status;
        var statusLine = Text(startLine);
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || parts[1].Length != 3
            || !int.TryParse(
                parts[1],
                System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture,
                out var code))
            return HttpParseStatus.Malformed;
        head = new HttpResponseHead(statusLine, code, fields);
        return HttpParseStatus.Complete;
    }
}
