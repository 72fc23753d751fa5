using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace WsCore.Targets;

/// <summary>
/// What a user names as a WebSocket endpoint, parsed once for every verb (send, broadcast, bench, probe): the host and
/// how to resolve it, the port, the path, and whether TLS is wanted.
/// </summary>
/// <remarks>
/// The grammar (README, "Targets"): <c>ws://HOST[:PORT][/PATH]</c> or <c>wss://…</c> as RFC 6455 §3 defines them (port
/// 80 / 443 by default), or the same without the scheme, <c>HOST[:PORT][/PATH]</c>, meaning <c>ws://</c> on the
/// firmware's port 8080. HOST is <c>NAME.local</c> (mDNS), another name (DNS), an IPv4 address, or an IPv6 address in
/// brackets (RFC 3986 §3.2.2; bare too when nothing follows it, e.g. <c>fe80::1%3</c>). Refused: other schemes,
/// credentials (<c>user@</c>: nothing would send them), fragments (RFC 6455 §3: "#" must not be used), port 0 or
/// above 65535, and anything that is not a host.
/// </remarks>
/// <param name="Host">The host name or address text, without brackets, port or trailing dot.</param>
/// <param name="Kind">How <see cref="Host"/> is resolved.</param>
/// <param name="Port">The TCP port.</param>
/// <param name="Path">The request target: path and query, starting with '/', percent-encoded.</param>
/// <param name="Secure">True for <c>wss://</c>.</param>
public sealed record WebSocketTarget(string Host, HostKind Kind, int Port, string Path, bool Secure)
{
    /// <summary>The firmware's port, used when nothing names one.</summary>
    public const int DefaultPort = 8080;

    private const string Grammar =
        "write ws://HOST[:PORT][/PATH], wss://…, or HOST[:PORT][/PATH] (ws, port 8080 by default)";

    /// <summary>
    /// True when the port came from the caller (a URL, <c>HOST:PORT</c> or the verb's own port); false when it is
    /// only <see cref="DefaultPort"/>, which a device's own mDNS service record may then correct.
    /// </summary>
    public bool PortGiven { get; init; } = true;

    /// <summary>The WebSocket URI as named (its host is what the request's <c>Host</c> header carries).</summary>
    public Uri Uri => new(Compose(Secure, Host, Port, Path));

    /// <summary>The WebSocket URI for a given resolved address (brackets around IPv6, scope id kept).</summary>
    public Uri UriFor(IPAddress address) => new(Compose(Secure, address.ToString(), Port, Path));

    /// <summary>
    /// Parses <paramref name="text"/>. The target's own port wins (a URL without one: 80 / 443, RFC 6455 §3), then
    /// <paramref name="port"/>, then <see cref="DefaultPort"/>; likewise its own path (a URL always has one), then
    /// <paramref name="path"/>, then "/".
    /// </summary>
    /// <param name="text">What the user typed.</param>
    /// <param name="port">The verb's port option when the user gave it; null when not.</param>
    /// <param name="path">The verb's path option; null for "/".</param>
    /// <exception cref="WsCoreException"><see cref="FailureKind.InvalidInput"/>: not a WebSocket target.</exception>
    public static WebSocketTarget Parse(string text, int? port = null, string? path = null)
    {
        var input = text.Trim();
        if (input.Length == 0)
            throw Invalid(text, "it is empty");
        if (port is < 1 or > 65535)
            throw Invalid(text, $"port {port} is out of range");

        bool? secure = null;
        var schemeEnd = input.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0)
        {
            var scheme = input[..schemeEnd].ToLowerInvariant();
            secure = scheme switch
            {
                "ws" => false,
                "wss" => true,
                _ => throw new WsCoreException(FailureKind.InvalidInput,
                    $"'{text}': the scheme must be ws:// or wss://, not {scheme}://",
                    scheme is "http" or "https"
                        ? $"try {(scheme == "https" ? "wss" : "ws")}://{input[(schemeEnd + 3)..]}"
                        : Grammar),
            };
            input = input[(schemeEnd + 3)..];
        }
        if (input.Contains('#'))
            throw Invalid(text, "a WebSocket URL has no fragment (RFC 6455 §3)");

        // Authority, then path: the first '/' or '?' ends the authority (RFC 3986 §3.2).
        var authorityEnd = input.IndexOfAny(['/', '?']);
        var authority = authorityEnd < 0 ? input : input[..authorityEnd];
        var ownPath = authorityEnd < 0 ? null
            : input[authorityEnd] == '?' ? "/" + input[authorityEnd..]
            : input[authorityEnd..];
        if (authority.Contains('@'))
            throw Invalid(text, "credentials in a target are never sent");

        var (host, ownPort) = SplitAuthority(text, authority, bareInput: secure is null && ownPath is null);
        var isSecure = secure ?? false;
        var finalPort = ownPort ?? (secure is not null ? (isSecure ? 443 : 80) : port ?? DefaultPort);
        var finalPath = ownPath ?? (secure is not null ? "/" : path ?? "/");
        if (!finalPath.StartsWith('/'))
            finalPath = "/" + finalPath;

        var kind = IPAddress.TryParse(host, out _) ? HostKind.Address
            : host.EndsWith(".local", StringComparison.OrdinalIgnoreCase) ? HostKind.Mdns
            : HostKind.Dns;
        if (!Uri.TryCreate(Compose(isSecure, host, finalPort, finalPath), UriKind.Absolute, out var uri))
            throw Invalid(text, "it is not a host name and path");
        var given = ownPort is not null || secure is not null || port is not null;
        return new WebSocketTarget(host, kind, finalPort, uri.PathAndQuery, isSecure) { PortGiven = given };
    }

    // "host", "host:port", "[v6]", "[v6]:port", or (bareInput: nothing follows) a bare IPv6 address such as fe80::1%3.
    private static (string Host, int? Port) SplitAuthority(string text, string authority, bool bareInput)
    {
        if (authority.StartsWith('['))
        {
            // Brackets are URI syntax, where a zone's '%' is written "%25" (RFC 6874 §2): fe80::1%253 is zone 3.
            var close = authority.IndexOf(']');
            var literal = close < 0 ? "" : authority[1..close].Replace("%25", "%", StringComparison.Ordinal);
            if (!IPAddress.TryParse(literal, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
                throw Invalid(text, "brackets hold an IPv6 address (RFC 3986 §3.2.2)");
            var rest = authority[(close + 1)..];
            return (v6.ToString(), rest.Length == 0 ? null : ParsePort(text, rest));
        }
        var colons = authority.Count(c => c == ':');
        if (colons > 1)
        {
            if (bareInput && IPAddress.TryParse(authority, out var bare))
                return (bare.ToString(), null);
            throw Invalid(text, "an IPv6 address followed by a port or path goes in brackets, e.g. [::1]:8080/");
        }
        var colon = authority.IndexOf(':');
        var host = (colon < 0 ? authority : authority[..colon]).TrimEnd('.');
        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is '[' or ']' or '%' or '\\'))
            throw Invalid(text, "it is not a host name");
        return (host, colon < 0 ? null : ParsePort(text, authority[colon..]));
    }

    private static int ParsePort(string text, string colonAndPort) =>
        colonAndPort.Length > 1 && colonAndPort[0] == ':'
        && int.TryParse(colonAndPort.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var p)
        && p is >= 1 and <= 65535
            ? p
            : throw Invalid(text, $"'{colonAndPort}' is not a port (1-65535)");

    // An IPv6 address goes in brackets, its zone's '%' escaped as "%25" (RFC 6874 §2).
    private static string Compose(bool secure, string host, int port, string path)
    {
        var authorityHost = host.Contains(':') ? $"[{host.Replace("%", "%25", StringComparison.Ordinal)}]" : host;
        return $"{(secure ? "wss" : "ws")}://{authorityHost}:{port.ToString(CultureInfo.InvariantCulture)}{path}";
    }

    private static WsCoreException Invalid(string text, string why) =>
        new(FailureKind.InvalidInput, $"'{text}' is not a WebSocket target: {why}", Grammar);
}
