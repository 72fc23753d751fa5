using System.Text.Json;

namespace WsCore.Tests.Support;

/// <summary>
/// bench/loadgen/echo_load, the benchmark's independent C load generator, built as bench/run.sh builds it
/// (<see cref="BenchCPrograms"/>) and run against a server with its one JSON result line parsed.
/// </summary>
public static class EchoLoadGenerator
{
    /// <summary>Builds echo_load if this test run has not yet; returns its path.</summary>
    public static Task<string> BuildAsync() => BenchCPrograms.BuildAsync("echo_load");

    /// <summary>
    /// Runs echo_load against <paramref name="target"/>; returns its exit code, its one stdout line parsed, and its
    /// stderr. Fails the test when stdout is not exactly one JSON line.
    /// </summary>
    public static async Task<(int Exit, JsonElement Json, string Stderr)> RunAsync(string target, params string[] args)
    {
        var result = await BenchCPrograms.RunAsync(await BuildAsync(), [target, .. args], TimeSpan.FromSeconds(60));
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(
            lines.Length == 1, $"echo_load must print one line; stdout:\n{result.Stdout}\nstderr:\n{result.Stderr}");
        return (result.Exit, JsonDocument.Parse(lines[0]).RootElement.Clone(), result.Stderr);
    }

    /// <summary>Runs echo_load with arguments it should refuse: its exit code, stdout and stderr as they are.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunRefusedAsync(params string[] args) =>
        await BenchCPrograms.RunAsync(await BuildAsync(), args, TimeSpan.FromSeconds(60));
}
