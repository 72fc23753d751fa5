using System.Net;

namespace WsCore.WebSockets.Server;

/// <summary>
/// Which pages may open a WebSocket to the server, by their <c>Origin</c> header (RFC 6455 §4.1 item 8, §10.2;
/// RFC 6454). Always allowed: no Origin (devices, scripts, every non-browser client), the page's own origin (the
/// server's test page; Origin host:port equals the Host header), loopback origins on any port (a page on a dev
/// server such as http://localhost:5173), and "null" (a page opened from a file). Anything else only when listed.
/// </summary>
/// <param name="Allowed">Origins allowed besides those, compared case-insensitively ("*" allows any).</param>
/// <param name="RefusalHint">Added to the log line of a refusal, with ORIGIN replaced by the refused origin.</param>
public sealed record OriginPolicy(IReadOnlyList<string> Allowed, string? RefusalHint = null)
{
    /// <summary>Whether a handshake with this Origin (null: none) and Host header is allowed.</summary>
    public bool Allows(string? origin, string? host)
    {
        if (origin is null || Allowed.Contains("*"))
            return true;
        origin = origin.Trim();
        if (origin == "null"
            || Allowed.Any(a => string.Equals(a.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)))
            return true;
        if (!TryParseWebOrigin(origin, out var uri))
            return false;
        if (uri.IsLoopback || string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address)))
            return true;
        // Same origin: the page was served by this server under the name the browser used (Host header).
        return host is not null && string.Equals(uri.Authority, host.Trim(), StringComparison.OrdinalIgnoreCase)
            || host is not null && uri.IsDefaultPort
                && string.Equals(uri.Host, host.Trim(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether <paramref name="text"/> is an http or https origin such as https://host[:port].</summary>
    public static bool IsWebOrigin(string text) => TryParseWebOrigin(text, out _);

    private static bool TryParseWebOrigin(string text, out Uri uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri!) && uri.Scheme is "http" or "https";
}
