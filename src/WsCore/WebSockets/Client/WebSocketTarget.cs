namespace WsCore.WebSockets.Client;

/// <summary>
/// Turns what a user types as a target into a WebSocket URL: <c>ws://host[:port][/path]</c> and <c>wss://…</c> as
/// given; a bare <c>host[:port][/path]</c> (including <c>[::1]:8080</c>) means <c>ws://</c>, port 8080 (the
/// firmware's), path <c>/</c>.
/// </summary>
public static class WebSocketTarget
{
    /// <summary>The firmware's port, used when a bare target names none.</summary>
    public const int DefaultPort = 8080;

    /// <exception cref="WsCoreException">InvalidInput: not a WebSocket target.</exception>
    public static Uri Parse(string target)
    {
        var text = target.Trim();
        var bare = !text.Contains("://", StringComparison.Ordinal);
        if (bare)
            text = "ws://" + text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw new WsCoreException(FailureKind.InvalidInput, $"'{target}' is not a WebSocket target",
                "write ws://HOST[:PORT][/PATH], wss://…, or HOST[:PORT] (port 8080 by default)");
        if (uri.Scheme is not ("ws" or "wss"))
            throw new WsCoreException(FailureKind.InvalidInput, $"'{target}': the scheme must be ws:// or wss://, not {uri.Scheme}://",
                uri.Scheme is "http" or "https" ? $"try {(uri.Scheme == "https" ? "wss" : "ws")}://{uri.Authority}{uri.PathAndQuery}" : null);
        if (bare && uri.IsDefaultPort && !HasExplicitPort(target))
            uri = new UriBuilder(uri) { Port = DefaultPort }.Uri;
        return uri;
    }

    // "host:80" written out is a port the user chose, even though it is ws://'s default.
    private static bool HasExplicitPort(string bareTarget)
    {
        var authority = bareTarget.Split('/', 2)[0];
        var colon = authority.LastIndexOf(':');
        return colon > authority.LastIndexOf(']');
    }
}
