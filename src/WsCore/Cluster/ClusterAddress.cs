using System.Globalization;

namespace WsCore.Cluster;

/// <summary>
/// Where a cluster's Redis is and how to log in: <c>redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]</c>, or
/// <c>rediss://</c> for TLS (the schemes IANA registers for Redis; port 6379 and database 0 by default).
/// </summary>
/// <param name="Host">A host name or an IP address (IPv6 without brackets).</param>
/// <param name="Port">The TCP port.</param>
/// <param name="Database">The Redis database number (0-15 on a default server).</param>
public sealed record ClusterAddress(string Host, int Port, int Database)
{
    /// <summary>Redis's default port.</summary>
    public const int DefaultPort = 6379;

    /// <summary>Whether the connection is TLS (<c>rediss://</c>), the server's certificate checked against the
    /// system's trusted roots and <see cref="Host"/>.</summary>
    public bool Tls { get; init; }

    /// <summary>The ACL user (Redis 6+), or null for the default user. Shown in <see cref="ToString"/>.</summary>
    public string? User { get; init; }

    /// <summary>The password (<c>requirepass</c> or the ACL user's), or null. Never part of <see cref="ToString"/>:
    /// the address is logged.</summary>
    public string? Password { get; init; }

    /// <summary>
    /// Parses <c>redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB]</c> (percent-encoded, as in any URI; a bare
    /// <c>PASSWORD@</c> as well, as redis-cli reads it); anything else is an InvalidInput
    /// <see cref="WsCoreException"/> whose message never repeats a password.
    /// </summary>
    public static ClusterAddress Parse(string text)
    {
        const string form = "expected redis://HOST[:PORT][/DB] (or rediss:// for TLS)";
        var tls = text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase);
        if (!(tls || text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
            || !Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw WsCoreException.Invalid(InputField.ClusterAddress, $"{form}, got '{WithoutPassword(text)}'",
                "e.g. redis://127.0.0.1:6379/0");
        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
            throw WsCoreException.Invalid(InputField.ClusterAddress,
                $"{form} (no query or fragment), got '{WithoutPassword(text)}'");
        var path = uri.AbsolutePath.Trim('/');
        var database = 0;
        if (path.Length > 0 && (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out database)
            || database > 65535))
            throw WsCoreException.Invalid(InputField.ClusterAddress,
                $"the database must be a number, got '{path}'");
        // RFC 3986 §3.2.1: user information, percent-encoded. As redis-cli reads it: "USER:PASSWORD" is an ACL user
        // and its password, ":PASSWORD" and a bare "PASSWORD" are the default user's password.
        string? user = null, password = null;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
                user = Uri.UnescapeDataString(uri.UserInfo[..colon]);
            password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        var host = uri.Host.StartsWith('[') ? uri.Host[1..^1] : uri.Host;
        return new ClusterAddress(host, uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port, database)
        {
            Tls = tls,
            User = user,
            Password = password,
        };
    }

    /// <summary>HOST:PORT as Redis clients write it (IPv6 in brackets).</summary>
    public string EndPoint => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>The address without its password: <c>redis[s]://[USER@]HOST:PORT/DB</c>.</summary>
    public override string ToString() =>
        $"{(Tls ? "rediss" : "redis")}://{(User is null ? "" : Uri.EscapeDataString(User) + "@")}{EndPoint}/{Database}";

    // A refused address is echoed back without whatever stands between "//" and "@" (it may hold a password).
    private static string WithoutPassword(string text)
    {
        var start = text.IndexOf("//", StringComparison.Ordinal);
        var at = text.LastIndexOf('@');
        return start >= 0 && at > start ? text[..(start + 2)] + "…@" + text[(at + 1)..] : text;
    }
}
