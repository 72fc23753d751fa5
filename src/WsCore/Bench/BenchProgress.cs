namespace WsCore.Bench;

/// <summary>How a run is going, reported about once a second while it measures.</summary>
/// <param name="Mode">The scenario.</param>
/// <param name="Elapsed">Time since measuring began (idle: since connecting began).</param>
/// <param name="Count">
/// Round trips (ping, echo), deliveries (broadcast), connects (connect) or connections open (idle) so far.
/// </param>
/// <param name="PerSecond"><paramref name="Count"/>'s rate over the last interval (idle: 0).</param>
/// <param name="P50Microseconds">
/// The median latency so far (within <see cref="LatencyHistogram.RelativePrecision"/>, 0.4 %); null before the first
/// sample and in idle mode.
/// </param>
public readonly record struct BenchProgress(
    BenchMode Mode, TimeSpan Elapsed, long Count, double PerSecond, double? P50Microseconds);
