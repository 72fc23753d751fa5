namespace WsCore.Bench;

/// <summary>What a load run measured.</summary>
/// <param name="Mode">The scenario.</param>
/// <param name="Clients">Connections asked for.</param>
/// <param name="Connected">Connections made (connect mode: the connect loops).</param>
/// <param name="Seconds">How long it measured.</param>
/// <param name="MessagesSent">Messages (pings) sent.</param>
/// <param name="MessagesReceived">Answers that matched (ping, echo) or deliveries (broadcast).</param>
/// <param name="MessagesPerSecond"><paramref name="MessagesReceived"/> per second.</param>
/// <param name="Latency">Round trip (ping, echo), delivery (broadcast) or connect + handshake (connect)
/// latencies.</param>
/// <param name="LatencyByServer">
/// Broadcast through several servers (<see cref="BenchOptions.AlsoTargets"/>): the delivery latencies of each
/// server's clients, the target's first. A cluster's sender is on the target, so the others' figures include the trip
/// between instances, measured in the same run as the target's own. Empty otherwise.
/// </param>
/// <param name="Connects">Completed connects (connect, idle).</param>
/// <param name="ConnectsPerSecond"><paramref name="Connects"/> per second.</param>
/// <param name="Errors">Corrupted answers, failed connections, connections the server closed, malformed frames.</param>
/// <param name="AliveAtEnd">Connections still open when measuring ended.</param>
/// <param name="Lost">
/// Messages never answered (ping, echo: within <see cref="BenchOptions.AnswerTimeout"/>, or the connection ended
/// first) or never delivered (broadcast: sent × receivers − received, once no delivery came for 2 s).
/// </param>
/// <param name="Unsolicited">
/// Messages the server sent on its own (a counter, a status push, an unasked pong), skipped: they are not answers.
/// </param>
/// <param name="Interrupted">The run was cancelled before its duration ended: these are partial results.</param>
/// <param name="ErrorSamples">The first few distinct errors, in words.</param>
/// <param name="LossSamples">Why messages were lost (the first few distinct reasons), in words.</param>
public sealed record BenchResult(
    BenchMode Mode,
    int Clients,
    int Connected,
    double Seconds,
    long MessagesSent,
    long MessagesReceived,
    double MessagesPerSecond,
    LatencySummary Latency,
    IReadOnlyList<LatencySummary> LatencyByServer,
    long Connects,
    double ConnectsPerSecond,
    long Errors,
    int AliveAtEnd,
    long Lost,
    long Unsolicited,
    bool Interrupted,
    IReadOnlyList<string> ErrorSamples,
    IReadOnlyList<string> LossSamples)
{
    /// <summary>Why the first connection that could not be opened was not (null when every one opened).</summary>
    public WsCoreException? FirstConnectFailure { get; init; }

    /// <summary>CPU time the load generator's process used during the run, all its threads together.</summary>
    public double GeneratorCpuSeconds { get; init; }

    /// <summary>Wall-clock time of the run as the generator measured its CPU over it.</summary>
    public double GeneratorWallSeconds { get; init; }

    /// <summary>The processors the generator may run on (its affinity and container limits).</summary>
    public int GeneratorCores { get; init; } = 1;

    /// <summary>
    /// The share of the processors it may use that the generator kept busy (0-1): near 1, the figures are the
    /// generator's limit rather than the server's.
    /// </summary>
    public double GeneratorCpuShare => GeneratorWallSeconds <= 0 ? 0
        : Math.Min(1, GeneratorCpuSeconds / (GeneratorWallSeconds * Math.Max(1, GeneratorCores)));

    /// <summary>Whether <see cref="GeneratorCpuShare"/> says the generator, not the server, was saturated.</summary>
    public bool GeneratorSaturated => GeneratorCpuShare >= SaturatedShare;

    /// <summary>The <see cref="GeneratorCpuShare"/> from which a run is called generator-bound.</summary>
    public const double SaturatedShare = 0.9;

    /// <summary>Connections that could not be opened (counted in <see cref="Errors"/> too).</summary>
    public long ConnectFailures { get; init; }

    /// <summary>Of those, the ones the server refused with 503: it was at its client limit.</summary>
    public long RefusedAsFull { get; init; }
}
