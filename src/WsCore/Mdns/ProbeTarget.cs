using System.Globalization;
using System.Net;

namespace WsCore.Mdns;

/// <summary>How a probe target names its host.</summary>
public enum HostKind
{
    /// <summary>An IPv4 or IPv6 address literal: nothing to resolve.</summary>
    Address,
    /// <summary>A <c>NAME.local</c> name: resolved by mDNS (RFC 6762).</summary>
    Mdns,
    /// <summary>Any other name: resolved by the system resolver (unicast DNS, /etc/hosts).</summary>
    Dns,
}

/// <summary>
/// What <c>wsctl probe HOST</c> aims at: the host (and how to resolve it), the port, the path, and whether TLS is
/// wanted. Parsed from <c>NAME.local</c>, <c>host</c>, <c>host:port</c>, an address (<c>[v6]:port</c> too), or a
/// <c>ws://</c> / <c>wss://</c> URL.
/// </summary>
/// <param name="Host">The host name or address text, without brackets or port.</param>
/// <param name="Kind">How <see cref="Host"/> is resolved.</param>
/// <param name="Port">The TCP port.</param>
/// <param name="Path">The request path (with query), starting with '/'.</param>
/// <param name="Secure">True for <c>wss://</c>.</param>
public sealed record ProbeTarget(string Host, HostKind Kind, int Port, string Path, bool Secure)
{
    /// <summary>The WebSocket URI as named (its host is what the request's <c>Host</c> header carries).</summary>
    public Uri Uri => Kind == HostKind.Address
        ? UriFor(IPAddress.Parse(Host))
        : new Uri($"{(Secure ? "wss" : "ws")}://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}{Path}");

    /// <summary>The WebSocket URI for a given resolved address (brackets around IPv6, scope id kept).</summary>
    public Uri UriFor(IPAddress address)
    {
        var host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{address.ToString().Replace("%", "%25", StringComparison.Ordinal)}]"
            : address.ToString();
        return new Uri($"{(Secure ? "wss" : "ws")}://{host}:{Port.ToString(CultureInfo.InvariantCulture)}{Path}");
    }

    /// <summary>The port the firmware listens on, used when nothing names one.</summary>
    public const int DefaultPort = 8080;

    /// <summary>
    /// True when the port came from the caller (a URL, <c>host:port</c> or an explicit option); false when it is
    /// only <see cref="DefaultPort"/>, which a device's own mDNS service record may then correct.
    /// </summary>
    public bool PortGiven { get; init; } = true;

    /// <summary>
    /// Parses <paramref name="text"/>. A URL's own port wins (else 80 / 443, RFC 6455 §3); otherwise
    /// <c>host:port</c> wins over <paramref name="port"/>; <paramref name="path"/> applies unless a URL gives one.
    /// A null <paramref name="port"/> means none was given: <see cref="DefaultPort"/>, with <see cref="PortGiven"/> false.
    /// </summary>
    /// <exception cref="WsCoreException"><see cref="FailureKind.InvalidInput"/> for anything else.</exception>
    public static ProbeTarget Parse(string text, int? port = DefaultPort, string path = "/")
    {
        var target = Parse(text, port ?? DefaultPort, path);
        return port is null && target.Kind != HostKind.Address && !text.Contains("://", StringComparison.Ordinal) && target.Port == DefaultPort
            && !text.TrimEnd().EndsWith(":" + DefaultPort, StringComparison.Ordinal)
            ? target with { PortGiven = false } : target;
    }

    private static ProbeTarget Parse(string text, int port, string path)
    {
        var input = text.Trim();
        if (input.Length == 0)
            throw Invalid(text, "it is empty");
        if (port is < 1 or > 65535)
            throw Invalid(text, $"port {port} is out of range");
        if (!path.StartsWith('/'))
            path = "/" + path;

        if (input.Contains("://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(input, UriKind.Absolute, out var uri) || uri.Scheme is not ("ws" or "wss") || uri.Host.Length == 0)
                throw Invalid(text, "only ws:// and wss:// URLs are probed");
            var secure = uri.Scheme == "wss";
            var urlPort = uri.IsDefaultPort || uri.Port < 0 ? (secure ? 443 : 80) : uri.Port;
            var host = uri.Host.Trim('[', ']');
            return new ProbeTarget(host, KindOf(host), urlPort, uri.PathAndQuery.Length == 0 ? "/" : uri.PathAndQuery, secure);
        }

        if (IPAddress.TryParse(input, out var bare) && !input.StartsWith('['))
            return new ProbeTarget(bare.ToString(), HostKind.Address, port, path, false);
        if (input.StartsWith('['))
        {
            var close = input.IndexOf(']');
            if (close < 0 || !IPAddress.TryParse(input[1..close], out var v6))
                throw Invalid(text, "a bracketed host must be an IPv6 address");
            var rest = input[(close + 1)..];
            return new ProbeTarget(v6.ToString(), HostKind.Address, rest.Length == 0 ? port : ParsePort(text, rest), path, false);
        }
        var colon = input.LastIndexOf(':');
        var name = colon < 0 ? input : input[..colon];
        var hostPort = colon < 0 ? port : ParsePort(text, input[colon..]);
        if (name.Length == 0 || name.Any(c => char.IsWhiteSpace(c) || c is '/' or '@' or ':'))
            throw Invalid(text, "it is not a host name");
        return new ProbeTarget(name.TrimEnd('.'), KindOf(name), hostPort, path, false);
    }

    private static HostKind KindOf(string host) =>
        IPAddress.TryParse(host, out _) ? HostKind.Address
        : host.TrimEnd('.').EndsWith(".local", StringComparison.OrdinalIgnoreCase) ? HostKind.Mdns
        : HostKind.Dns;

    private static int ParsePort(string text, string colonAndPort) =>
        colonAndPort.Length > 1 && colonAndPort[0] == ':'
        && int.TryParse(colonAndPort[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 65535
            ? p
            : throw Invalid(text, $"'{colonAndPort}' is not a port");

    private static WsCoreException Invalid(string text, string why) =>
        new(FailureKind.InvalidInput, $"cannot probe '{text}': {why}", hint: "give NAME.local, a host name, an address, or a ws:// URL");
}
