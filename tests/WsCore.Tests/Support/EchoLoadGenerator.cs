using System.Diagnostics;
using System.Text.Json;

namespace WsCore.Tests.Support;

/// <summary>
/// bench/loadgen/echo_load, the benchmark's independent C load generator: built with the flags bench/run.sh uses
/// (gcc -O2 -Wall -Wextra -Werror, so a warning fails the test) into build/echo-load once per test run, and run
/// against a server with its one JSON result line parsed.
/// </summary>
public static class EchoLoadGenerator
{
    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private static string? _binary;

    /// <summary>Builds echo_load if this test run has not yet; returns its path.</summary>
    public static async Task<string> BuildAsync()
    {
        await BuildLock.WaitAsync();
        try
        {
            if (_binary is not null)
                return _binary;
            var dir = Directory.CreateDirectory(RepoPaths.Combine("build", "echo-load")).FullName;
            var binary = Path.Combine(dir, "echo_load");
            var result = await RunAsync(
                "gcc",
                [
                    "-O2", "-Wall", "-Wextra", "-Werror", "-o", binary,
                    RepoPaths.Combine("bench", "loadgen", "echo_load.c"),
                ],
                TimeSpan.FromMinutes(2));
            if (result.Exit != 0)
                throw new InvalidOperationException($"gcc failed to build echo_load ({result.Exit}):\n{result.Stderr}");
            return _binary = binary;
        }
        finally
        {
            BuildLock.Release();
        }
    }

    /// <summary>
    /// Runs echo_load against <paramref name="target"/>; returns its exit code, its one stdout line parsed, and its
    /// stderr. Fails the test when stdout is not exactly one JSON line.
    /// </summary>
    public static async Task<(int Exit, JsonElement Json, string Stderr)> RunAsync(string target, params string[] args)
    {
        var result = await RunAsync(await BuildAsync(), [target, .. args], TimeSpan.FromSeconds(60));
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(
            lines.Length == 1, $"echo_load must print one line; stdout:\n{result.Stdout}\nstderr:\n{result.Stderr}");
        return (result.Exit, JsonDocument.Parse(lines[0]).RootElement.Clone(), result.Stderr);
    }

    /// <summary>Runs echo_load with arguments it should refuse: its exit code, stdout and stderr as they are.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunRefusedAsync(params string[] args) =>
        await RunAsync(await BuildAsync(), args, TimeSpan.FromSeconds(60));

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(
        string program, string[] args, TimeSpan limit)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"{program} still running after {limit}; stderr:\n{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
