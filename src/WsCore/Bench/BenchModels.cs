using System.Diagnostics;

namespace WsCore.Bench;

/// <summary>What the load generator does.</summary>
public enum BenchMode
{
    /// <summary>
    /// Every client sends a ping and waits for its pong (closed loop), every byte checked. Needs nothing from the
    /// server beyond RFC 6455 itself: a pong answering a ping carries the ping's payload (§5.5.2, §5.5.3).
    /// </summary>
    Ping,
    /// <summary>
    /// Every client sends a message and waits for its echo (closed loop), every byte checked; needs an echoing server.
    /// </summary>
    Echo,
    /// <summary>One client sends to a relaying server; every client counts what arrives.</summary>
    Broadcast,
    /// <summary>Clients connect, handshake and close, over and over: connects per second.</summary>
    Connect,
    /// <summary>Clients connect and stay idle (answering pings); how many are still alive at the end.</summary>
    Idle,
}

/// <summary>Settings of one load run.</summary>
/// <param name="Target">The server: a ws:// URL.</param>
/// <param name="Mode">The scenario.</param>
/// <param name="Clients">How many connections (connect mode: how many connect loops).</param>
/// <param name="MessageBytes">
/// Payload size of each message: at least <see cref="LoadGenerator.MinMessageBytes"/>; in ping mode at most
/// <see cref="LoadGenerator.MaxPingBytes"/>.
/// </param>
/// <param name="Duration">How long to measure.</param>
/// <param name="Rate">
/// Messages per second in all (ping and echo: spread over the clients; broadcast: the sender's); null: as fast as
/// the server goes.
/// </param>
public sealed record BenchOptions(
    Uri Target, BenchMode Mode, int Clients, int MessageBytes, TimeSpan Duration, double? Rate = null)
{
    /// <summary>
    /// More servers to spread the connections over (the instances of a <c>serve --cluster</c>): connection i goes to
    /// server i mod N of <see cref="Target"/> and these, in that order. Connect mode uses <see cref="Target"/> only.
    /// </summary>
    public IReadOnlyList<Uri> AlsoTargets { get; init; } = [];

    /// <summary>
    /// Resolves the targets' host names (as <see cref="WsCore.WebSockets.Client.WebSocketClientOptions.Resolve"/>:
    /// wsctl passes its mDNS-aware resolver, so NAME.local works as in send and probe); null: the system resolver.
    /// </summary>
    public Func<string, CancellationToken, Task<System.Net.IPAddress[]>>? Resolve { get; init; }

    /// <summary>
    /// How long resolving a target's name may take (mDNS has no negative answer: an unknown name takes all of it).
    /// </summary>
    public TimeSpan ResolveTimeout { get; init; } = DefaultResolveTimeout;

    /// <summary>The default <see cref="ResolveTimeout"/>.</summary>
    public static readonly TimeSpan DefaultResolveTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Connections opened at once while ramping up.</summary>
    public int ConnectConcurrency { get; init; } = 64;

    /// <summary>Broadcast: messages the sender may have in flight (sent but not yet back to itself).</summary>
    public int BroadcastWindow { get; init; } = 32;

    /// <summary>
    /// Ping and echo: how long a client waits for the answer to its message. Past it the message counts as lost and
    /// that client stops: a server that did not answer one message will not answer the next.
    /// </summary>
    public TimeSpan AnswerTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often the progress callback of <see cref="LoadGenerator.RunAsync"/> hears how the run goes.
    /// </summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>Latency percentiles in microseconds.</summary>
public sealed record LatencySummary(int Count, double P50, double P90, double P99, double Max)
{
    public static LatencySummary From(List<long> ticks)
    {
        if (ticks.Count == 0)
            return new LatencySummary(0, 0, 0, 0, 0);
        ticks.Sort();
        double At(double q) => ticks[Math.Min(ticks.Count - 1, (int)(q * ticks.Count))] * 1e6 / Stopwatch.Frequency;
        return new LatencySummary(ticks.Count, At(0.50), At(0.90), At(0.99), ticks[^1] * 1e6 / Stopwatch.Frequency);
    }
}

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
/// first) or never delivered (broadcast: sent × receivers − received, after a bounded wait for stragglers).
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

    /// <summary>Connections that could not be opened (counted in <see cref="Errors"/> too).</summary>
    public long ConnectFailures { get; init; }

    /// <summary>Of those, the ones the server refused with 503: it was at its client limit.</summary>
    public long RefusedAsFull { get; init; }
}

/// <summary>How a run is going, reported about once a second while it measures.</summary>
/// <param name="Mode">The scenario.</param>
/// <param name="Elapsed">Time since measuring began (idle: since connecting began).</param>
/// <param name="Count">
/// Round trips (ping, echo), deliveries (broadcast), connects (connect) or connections open (idle) so far.
/// </param>
/// <param name="PerSecond"><paramref name="Count"/>'s rate over the last interval (idle: 0).</param>
/// <param name="P50Microseconds">The median latency so far (within about 3 %); null before the first sample and in idle
/// mode.</param>
public readonly record struct BenchProgress(
    BenchMode Mode, TimeSpan Elapsed, long Count, double PerSecond, double? P50Microseconds);
