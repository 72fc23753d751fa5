namespace WsCore.Bench;

/// <summary>
/// A run's latencies, one <see cref="LatencyHistogram"/> per server its connections went to (0: the target, then each
/// of <see cref="BenchOptions.AlsoTargets"/>), so a broadcast through a cluster reports each instance's clients apart
/// and the run's figures are all of them together. Fixed memory: one histogram per server, whatever the run's length.
/// </summary>
/// <remarks>Thread-safe: every client task records at once, and the progress line reads meanwhile.</remarks>
internal sealed class ServerLatencies
{
    private readonly LatencyHistogram[] _byServer;

    public ServerLatencies(int servers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(servers, 1);
        _byServer = [.. Enumerable.Range(0, servers).Select(_ => new LatencyHistogram())];
    }

    /// <summary>How many servers latencies are kept for.</summary>
    public int ServerCount => _byServer.Length;

    /// <summary>Counts one latency measured by a client of <paramref name="server"/>.</summary>
    public void Record(int server, long ticks) => _byServer[server].Record(ticks);

    /// <summary>The latencies measured by the clients of <paramref name="server"/>.</summary>
    public LatencyHistogram Of(int server) => _byServer[server];

    /// <summary>Every latency of the run: the one server's histogram itself, or the servers' added up.</summary>
    public LatencyHistogram All()
    {
        if (_byServer.Length == 1)
            return _byServer[0];
        var all = new LatencyHistogram();
        foreach (var histogram in _byServer)
            all.Add(histogram);
        return all;
    }
}
