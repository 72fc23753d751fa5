using System.Globalization;

namespace WsCore.WebSockets.Server;

/// <summary>Which rule of <see cref="OriginPolicy"/> decided a handshake (the numbers are the rules').</summary>
public enum OriginVerdict
{
    /// <summary>1: no Origin header (devices, scripts): accepted.</summary>
    Absent = 1,
    /// <summary>2: the allow-list has "*": accepted.</summary>
    Any = 2,
    /// <summary>3: the Origin is in the allow-list: accepted.</summary>
    Listed = 3,
    /// <summary>4: "null" (a sandboxed frame, a file, some redirects) and not listed: refused.</summary>
    Null = 4,
    /// <summary>5: not http(s)://host[:port]: refused.</summary>
    Invalid = 5,
    /// <summary>6: a page on this machine (loopback host, any port): accepted.</summary>
    Loopback = 6,
    /// <summary>7: the server's own origin, under a name DNS cannot point elsewhere: accepted.</summary>
    Same = 7,
    /// <summary>8: any other page, a DNS-rebinding one among them: refused.</summary>
    Foreign = 8,
}

/// <summary>
/// Which pages may open a WebSocket to the server, by their <c>Origin</c> header (RFC 6455 §4.1 item 8, §10.2;
/// RFC 6454), in the same eight rules as the firmware's <c>ws_origin_check</c>
/// (<c>src/firmware/components/ws_server/include/ws_origin.h</c>, which states the grammar both parse by), so a page
/// gets the same answer from <c>wsctl serve</c> and from a board:
/// <list type="number">
/// <item>No Origin: accept (devices, scripts, every non-browser client).</item>
/// <item>The allow-list has "*": accept any.</item>
/// <item>The Origin is in the allow-list (ASCII case-insensitive, a trailing '/' ignored): accept ("null" only
/// so).</item>
/// <item>"null" otherwise: refuse (sandboxed frames on any site send it, not only files).</item>
/// <item>Not http://host[:port] or https://host[:port]: refuse.</item>
/// <item>A loopback host (localhost, *.localhost, 127.0.0.0/8, [::1]), any port: accept (a dev server).</item>
/// <item>Same origin (Origin host[:port] equals the Host header, a default port equal to an omitted one) under a
/// name DNS rebinding cannot reach: a loopback name, an address literal, or one of <see cref="LocalNames"/>:
/// accept. A page on evil.example that rebinds its name to 127.0.0.1 sends exactly such a same-origin pair, with
/// its own name in Host.</item>
/// <item>Anything else: refuse with 403.</item>
/// </list>
/// </summary>
/// <param name="Allowed">Origins allowed besides those, compared case-insensitively ("*" allows any).</param>
/// <param name="LocalNames">The names the server is known by besides addresses (its mDNS name NAME.local, the
/// machine's host name), compared case-insensitively with an optional trailing dot.</param>
/// <param name="RefusalHint">Added to the log line of a refusal, with ORIGIN replaced by the refused origin.</param>
public sealed record OriginPolicy(
    IReadOnlyList<string> Allowed, IReadOnlyList<string>? LocalNames = null, string? RefusalHint = null)
{
    /// <summary>Whether a handshake with this Origin (null: none) and Host header is allowed.</summary>
    public bool Allows(string? origin, string? host) => IsAccepted(Check(origin, host));

    /// <summary>True for the verdicts that accept (rules 1, 2, 3, 6, 7).</summary>
    public static bool IsAccepted(OriginVerdict verdict) => verdict is OriginVerdict.Absent or OriginVerdict.Any
        or OriginVerdict.Listed or OriginVerdict.Loopback or OriginVerdict.Same;

    /// <summary>The rule that decides a handshake with this Origin (null: none) and Host header (null: none).</summary>
    public OriginVerdict Check(string? origin, string? host)
    {
        if (origin is null)
            return OriginVerdict.Absent;
        origin = origin.Trim();
        if (Allowed.Any(a => a.Trim() == "*"))
            return OriginVerdict.Any;
        if (Allowed.Any(a => string.Equals(WithoutSlash(a.Trim()), WithoutSlash(origin),
            StringComparison.OrdinalIgnoreCase)))
            return OriginVerdict.Listed;
        // RFC 6454 §6.2: "null" is the serialization of an opaque origin.
        if (origin == "null")
            return OriginVerdict.Null;
        if (!TryParseOrigin(origin, out var page, out var defaultPort))
            return OriginVerdict.Invalid;
        if (IsLoopback(page.Host))
            return OriginVerdict.Loopback;
        if (host is null || !TryParseAuthority(host.Trim(), out var server)
            || !string.Equals(page.Host, server.Host, StringComparison.OrdinalIgnoreCase)
            || (page.Port ?? defaultPort) != (server.Port ?? defaultPort))
            return OriginVerdict.Foreign;
        return IsTrustedName(server.Host) ? OriginVerdict.Same : OriginVerdict.Foreign;
    }

    /// <summary>
    /// Whether <paramref name="text"/> is an origin as the allow-list takes it: http(s)://host[:port], with at most
    /// a trailing '/'.
    /// </summary>
    public static bool IsWebOrigin(string text) => TryParseOrigin(WithoutSlash(text.Trim()), out _, out _);

    private static string WithoutSlash(string text) => text.EndsWith('/') ? text[..^1] : text;

    private readonly record struct Authority(string Host, int? Port);

    private static bool TryParseOrigin(string text, out Authority authority, out int defaultPort)
    {
        authority = default;
        defaultPort = 0;
        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            defaultPort = 80;
            return TryParseAuthority(text["http://".Length..], out authority);
        }
        if (text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            defaultPort = 443;
            return TryParseAuthority(text["https://".Length..], out authority);
        }
        return false;
    }

    // Exactly host[:port]: a name of letters, digits, '-', '.', '_', or a bracketed IPv6 literal (hex, ':', '.',
    // at least one ':'), then nothing or ':' and 1-5 digits worth 1-65535. Nothing else (no path, user, zone).
    private static bool TryParseAuthority(string text, out Authority authority)
    {
        authority = default;
        var i = 0;
        if (text.StartsWith('['))
        {
            var colon = false;
            for (i = 1; i < text.Length && text[i] != ']'; i++)
            {
                if (!char.IsAsciiHexDigit(text[i]) && text[i] is not (':' or '.'))
                    return false;
                colon |= text[i] == ':';
            }
            if (i == text.Length || !colon)
                return false;
            i++;
        }
        else
        {
            while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '-' or '.' or '_'))
                i++;
            if (i == 0)
                return false;
        }
        var host = text[..i];
        if (i == text.Length)
        {
            authority = new Authority(host, null);
            return true;
        }
        var digits = text[(i + 1)..];
        if (text[i] != ':' || digits.Length is < 1 or > 5 || !digits.All(char.IsAsciiDigit))
            return false;
        var port = int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        if (port is < 1 or > 65535)
            return false;
        authority = new Authority(host, port);
        return true;
    }

    // Four dot-separated numbers of 1-3 digits, each 0-255.
    private static bool IsIpv4(string host, out int first)
    {
        first = -1;
        var parts = host.Split('.');
        if (parts.Length != 4)
            return false;
        foreach (var part in parts)
        {
            if (part.Length is < 1 or > 3 || !part.All(char.IsAsciiDigit))
                return false;
            var value = int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture);
            if (value > 255)
                return false;
            if (first < 0)
                first = value;
        }
        return true;
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (host.Length > ".localhost".Length && host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        || (IsIpv4(host, out var first) && first == 127)
        || host == "[::1]";

    private bool IsTrustedName(string host) =>
        IsLoopback(host) || IsIpv4(host, out _) || host.StartsWith('[')
        || (LocalNames ?? []).Any(name => string.Equals(host, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(host, name + ".", StringComparison.OrdinalIgnoreCase));
}
