namespace WsCore.Bench;

/// <summary>One bench mode: what its clients do, and how its figures come out of the run's statistics.</summary>
internal abstract class BenchScenario(BenchRun run)
{
    protected BenchRun Run { get; } = run;

    protected BenchOptions Options => Run.Options;

    protected BenchStatistics Stats => Run.Statistics;

    /// <summary>Runs the scenario for the options' duration (or until Ctrl-C) and reports what it measured.</summary>
    public abstract Task<BenchResult> RunAsync();

    /// <summary>The scenario of <see cref="BenchOptions.Mode"/>.</summary>
    public static BenchScenario For(BenchRun run) => run.Options.Mode switch
    {
        BenchMode.Ping => new PingScenario(run),
        BenchMode.Echo => new EchoScenario(run),
        BenchMode.Broadcast => new BroadcastScenario(run),
        BenchMode.Connect => new ConnectScenario(run),
        BenchMode.Idle => new IdleScenario(run),
        _ => throw new ArgumentOutOfRangeException(nameof(run), run.Options.Mode, "no such bench mode"),
    };
}
