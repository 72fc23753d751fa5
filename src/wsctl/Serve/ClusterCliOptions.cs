using System.CommandLine;
using WsCore;
using WsCore.Cluster;
using Wsctl.Cli;

namespace Wsctl.Serve;

/// <summary>What <c>serve --cluster</c> was asked to do.</summary>
/// <param name="Address">The cluster's Redis.</param>
/// <param name="Name">The cluster's name: instances with the same one act as one server.</param>
/// <param name="MaxClients">The most clients in the whole cluster, or null.</param>
/// <param name="Optional">Serve alone while Redis is unreachable instead of failing at start.</param>
/// <param name="Lease">The liveness and counter lease period.</param>
/// <param name="Instance">This instance's name, or null for HOST:PORT.</param>
public sealed record ClusterSettings(ClusterAddress Address, string Name, int? MaxClients, bool Optional,
    TimeSpan Lease, string? Instance);

/// <summary>serve's <c>--cluster*</c> options: one definition, read into <see cref="ClusterSettings"/>.</summary>
public sealed class ClusterCliOptions
{
    /// <summary>The Redis password when the address has none: the variable redis-cli reads, so that a password set
    /// up for it works here, and stays out of process listings.</summary>
    public const string PasswordVariable = "REDISCLI_AUTH";

    public Option<string?> Cluster { get; } = new("--cluster")
    {
        Description = "Join the instances of serve that use this Redis (and --cluster-name) into one server: " +
            "broadcasts, the counter, client ids, --list and send --client span every instance. Redis unreachable " +
            "at start: exit 4. rediss:// for TLS; a password in the URL (redis://[USER]:PASSWORD@HOST) is visible " +
            $"in process listings, {PasswordVariable} is used when the URL has none.",
        HelpName = "redis[s]://HOST[:PORT][/DB]",
    };

    public Option<string> Name { get; } = new("--cluster-name")
    {
        Description = "With --cluster: the cluster to join (instances with another name on the same Redis do not " +
            "meet).",
        HelpName = "NAME",
        DefaultValueFactory = _ => "wsctl",
    };

    public Option<int?> MaxClients { get; } = Options.OptionalInteger("--cluster-max-clients",
        "With --cluster: most WebSocket clients in the whole cluster, counted in Redis; one more gets HTTP 503. " +
        "A dead instance's clients stop counting within one --cluster-lease.", 1, 10_000_000);

    public Option<bool> Optional { get; } = new("--cluster-optional")
    {
        Description = "With --cluster: when Redis is unreachable at start, serve alone and join once it answers.",
    };

    public Option<TimeSpan> Lease { get; } = Options.Duration("--cluster-lease",
        "With --cluster: an instance silent this long is gone (its clients leave --list and the count); " +
        "the counter's lease, taken over within two of them when its holder dies.", TimeSpan.FromSeconds(3),
        minimum: TimeSpan.FromMilliseconds(300));

    public Option<string?> Instance { get; } = new("--cluster-instance")
    {
        Description = "With --cluster: this instance's name in --list and --json events (default HOST:PORT).",
        HelpName = "NAME",
    };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Cluster, Name, MaxClients, Optional, Lease, Instance })
            command.Options.Add(option);
        Cluster.Validators.Add(r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : null;
            if (text is null)
                return;
            try
            {
                ClusterAddress.Parse(text);
            }
            catch (WsCoreException e)
            {
                r.AddError($"{Cluster.Name}: {e.Message}");
            }
        });
        command.RequireWith(Cluster, Name, MaxClients, Optional, Lease, Instance);
    }

    /// <summary>The cluster settings, or null without <c>--cluster</c>.</summary>
    public ClusterSettings? Read(ParseResult parse) => parse.GetValue(Cluster) is { } text
        ? new ClusterSettings(WithPasswordFromEnvironment(ClusterAddress.Parse(text)), parse.GetValue(Name)!,
            parse.GetValue(MaxClients), parse.GetValue(Optional), parse.GetValue(Lease), parse.GetValue(Instance))
        : null;

    private static ClusterAddress WithPasswordFromEnvironment(ClusterAddress address) =>
        address.Password is null && Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } password
            ? address with { Password = password }
            : address;
}
