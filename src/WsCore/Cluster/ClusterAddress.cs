using System.Globalization;

namespace WsCore.Cluster;

/// <summary>Where a cluster's Redis is: <c>redis://HOST[:PORT][/DB]</c> (port 6379 and database 0 by
/// default).</summary>
/// <param name="Host">A host name or an IP address (IPv6 without brackets).</param>
/// <param name="Port">The TCP port.</param>
/// <param name="Database">The Redis database number (0-15 on a default server).</param>
public sealed record ClusterAddress(string Host, int Port, int Database)
{
    /// <summary>Redis's default port.</summary>
    public const int DefaultPort = 6379;

    /// <summary>Parses <c>redis://HOST[:PORT][/DB]</c>; anything else is an InvalidInput <see
    /// cref="WsCoreException"/>.</summary>
    public static ClusterAddress Parse(string text)
    {
        const string form = "expected redis://HOST[:PORT][/DB]";
        if (!text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase)
            || !Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw WsCoreException.Invalid(InputField.ClusterAddress, $"{form}, got '{text}'",
                "e.g. redis://127.0.0.1:6379/0");
        if (uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
            throw WsCoreException.Invalid(InputField.ClusterAddress,
                $"{form} (no user, password, query or fragment), got '{text}'");
        var path = uri.AbsolutePath.Trim('/');
        var database = 0;
        if (path.Length > 0 && (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out database)
            || database > 65535))
            throw WsCoreException.Invalid(InputField.ClusterAddress,
                $"the database must be a number, got '{path}'");
        var host = uri.Host.StartsWith('[') ? uri.Host[1..^1] : uri.Host;
        return new ClusterAddress(host, uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port, database);
    }

    /// <summary>HOST:PORT as Redis clients write it (IPv6 in brackets).</summary>
    public string EndPoint => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <inheritdoc/>
    public override string ToString() => $"redis://{EndPoint}/{Database}";
}
