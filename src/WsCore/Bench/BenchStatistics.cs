using WsCore.WebSockets.Client;

namespace WsCore.Bench;

/// <summary>
/// The counters of a load run, the first few distinct errors and losses in words, why connections could not be
/// opened, and the latencies (<see cref="ServerLatencies"/>). Every mode's client tasks update them at once; nothing
/// here grows with the run's length.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class BenchStatistics(int servers)
{
    /// <summary>How many distinct problems of each kind the report names.</summary>
    public const int SampleLimit = 5;

    private readonly List<string> _errorSamples = [];
    private readonly List<string> _lossSamples = [];
    private long _sent;
    private long _received;
    private long _connects;
    private long _errors;
    private long _lost;
    private long _unsolicited;
    private long _opened;
    private long _closed;
    private long _connectFailures;
    private long _refusedAsFull;
    private WsCoreException? _firstConnectFailure;

    public ServerLatencies Latencies { get; } = new(servers);

    /// <summary>Messages (pings) sent.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Answers that matched (ping, echo) or deliveries (broadcast).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Completed connects (connect mode's loops, idle's connections).</summary>
    public long Connects => Interlocked.Read(ref _connects);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Messages counted lost as they were (ping, echo); broadcast works its losses out at the end.</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Messages the server sent on its own, skipped.</summary>
    public long Unsolicited => Interlocked.Read(ref _unsolicited);

    /// <summary>Connections open right now: opened and not yet seen closed.</summary>
    public long Open => Interlocked.Read(ref _opened) - Interlocked.Read(ref _closed);

    /// <summary>Connections that could not be opened (each one an error too).</summary>
    public long ConnectFailures => Interlocked.Read(ref _connectFailures);

    /// <summary>Of those, the ones the server refused with 503.</summary>
    public long RefusedAsFull => Interlocked.Read(ref _refusedAsFull);

    /// <summary>Why the first connection that could not be opened was not.</summary>
    public WsCoreException? FirstConnectFailure => Volatile.Read(ref _firstConnectFailure);

    /// <summary>The first few distinct errors, in words (a copy).</summary>
    public IReadOnlyList<string> ErrorSamples => Snapshot(_errorSamples);

    /// <summary>The first few distinct reasons messages were lost, in words (a copy).</summary>
    public IReadOnlyList<string> LossSamples => Snapshot(_lossSamples);

    public void CountSent() => Interlocked.Increment(ref _sent);

    private long _wireSent;
    private long _wireReceived;

    /// <summary>Bytes the connections wrote to their sockets (frames, compressed or not; no handshakes).</summary>
    public long WireBytesSent => Interlocked.Read(ref _wireSent);

    /// <summary>Bytes the connections read from their sockets after the handshake.</summary>
    public long WireBytesReceived => Interlocked.Read(ref _wireReceived);

    public void CountWire(long sent, long received)
    {
        if (sent != 0)
            Interlocked.Add(ref _wireSent, sent);
        if (received != 0)
            Interlocked.Add(ref _wireReceived, received);
    }

    public void CountReceived() => Interlocked.Increment(ref _received);

    public void CountConnects(long connects = 1) => Interlocked.Add(ref _connects, connects);

    public void CountUnsolicited() => Interlocked.Increment(ref _unsolicited);

    public void CountOpened() => Interlocked.Increment(ref _opened);

    public void CountClosed() => Interlocked.Increment(ref _closed);

    /// <summary>
    /// Counts an error and keeps <paramref name="what"/> if it is one of the first few distinct ones.
    /// </summary>
    public void Error(string what)
    {
        Interlocked.Increment(ref _errors);
        Sample(_errorSamples, what);
    }

    /// <summary>
    /// Counts a lost message and keeps <paramref name="why"/> if it is one of the first few distinct reasons.
    /// </summary>
    public void Lose(string why)
    {
        CountLost();
        ExplainLoss(why);
    }

    /// <summary>Counts a lost message whose reason is told elsewhere (as an error, say).</summary>
    public void CountLost() => Interlocked.Increment(ref _lost);

    /// <summary>Keeps a reason for losses counted elsewhere, if it is one of the first few distinct ones.</summary>
    public void ExplainLoss(string why) => Sample(_lossSamples, why);

    /// <summary>Counts a connection that could not be opened, as an error too.</summary>
    public void ConnectFailed(WsCoreException error)
    {
        Interlocked.CompareExchange(ref _firstConnectFailure, error, null);
        Interlocked.Increment(ref _connectFailures);
        // 503 is what a server at its client limit answers (the firmware, wsctl serve): the run asked for more
        // clients than it takes, which the report says rather than counting it as the server's error.
        if (error is WebSocketHandshakeException { StatusCode: 503 })
            Interlocked.Increment(ref _refusedAsFull);
        Error("connect: " + error.Message);
    }

    private static void Sample(List<string> samples, string what)
    {
        lock (samples)
            if (samples.Count < SampleLimit && !samples.Contains(what))
                samples.Add(what);
    }

    private static List<string> Snapshot(List<string> samples)
    {
        lock (samples)
            return [.. samples];
    }
}
