using Serilog;

namespace WsCore.Cluster;

/// <summary>Settings of a <see cref="ClusterNode"/>: which cluster to join and how it behaves.</summary>
public sealed class ClusterOptions
{
    /// <summary>The cluster's Redis.</summary>
    public required ClusterAddress Address { get; init; }

    /// <summary>Instances with the same name (and Redis) form one cluster; others on the same Redis do not
    /// meet.</summary>
    public string Name { get; init; } = "wsctl";

    /// <summary>The most clients in the whole cluster (503 beyond), or null for no cluster-wide limit.</summary>
    public int? MaxClients { get; init; }

    /// <summary>
    /// How long an instance counts as alive after its last heartbeat, and how long the counter lease lasts. A dead
    /// instance's clients leave the client count and the listing within one lease; another instance takes the counter
    /// over within two. Heartbeats go out every third of it.
    /// </summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How often the lease holder publishes the next counter value, or null for no counter.</summary>
    public TimeSpan? CounterInterval { get; init; }

    /// <summary>The counter's message for a value (serve's JSON).</summary>
    public Func<long, string> CounterText { get; init; } =
        value => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// False (the default): a Redis that does not answer at start is an error. True: serve alone and join when it
    /// answers.
    /// </summary>
    public bool Optional { get; init; }

    /// <summary>How long the first connection to Redis may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a listing or a send to another instance's client waits for the other instances'
    /// answers.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Client ids reserved from Redis at a time.</summary>
    public int IdBlockSize { get; init; } = 1000;

    /// <summary>Where the node logs (joins, leases, Redis lost and back, messages not delivered).</summary>
    public ILogger Logger { get; init; } = Serilog.Core.Logger.None;

    internal void Validate()
    {
        if (Name.Length == 0 || Name.Length > 100 || Name.Any(c => char.IsControl(c) || c is '{' or '}' or ' '))
            throw WsCoreException.Invalid(InputField.ClusterName,
                $"1 to 100 characters without spaces or braces, got '{Name}'");
        if (MaxClients is < 1)
            throw WsCoreException.Invalid(InputField.ClusterMaxClients, "must be at least 1");
        if (Lease < TimeSpan.FromMilliseconds(300))
            throw WsCoreException.Invalid(InputField.ClusterLease, "must be at least 300ms");
        if (IdBlockSize < 2)
            throw new WsCoreException(FailureKind.InvalidInput, "the id block must hold at least 2 ids");
    }
}
