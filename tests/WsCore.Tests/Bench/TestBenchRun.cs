using System.Net;
using WsCore.Bench;

namespace WsCore.Tests.Bench;

/// <summary>
/// A <see cref="BenchRun"/> against loopback servers, so a scenario can be run by itself.
/// </summary>
internal static class TestBenchRun
{
    public static BenchRun For(
        BenchOptions options, IProgress<BenchProgress>? progress = null, CancellationToken interrupt = default) =>
        new(
            options,
            [.. new[] { options.Target }.Concat(options.AlsoTargets)
                .Select(t => new BenchServer(new IPEndPoint(IPAddress.Loopback, t.Port), t))],
            Serilog.Core.Logger.None,
            progress,
            interrupt);

    /// <summary>Calls back on the reporting thread itself (Progress&lt;T&gt; would post to a context).</summary>
    public sealed class Collect(Action<BenchProgress> report) : IProgress<BenchProgress>
    {
        public void Report(BenchProgress value) => report(value);
    }
}
