using System.Diagnostics;

namespace WsCore.Tests.Support;

/// <summary>
/// The bench's C programs in bench/loadgen (echo_load, bare_echo): each built with the flags bench/run.sh uses
/// (gcc -O2 -Wall -Wextra -Werror, so a warning fails the test) into build/bench-c once per test run.
/// </summary>
public static class BenchCPrograms
{
    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private static readonly Dictionary<string, string> Built = [];

    /// <summary>Builds bench/loadgen/<paramref name="name"/>.c unless this test run did; returns its path.</summary>
    public static async Task<string> BuildAsync(string name)
    {
        await BuildLock.WaitAsync();
        try
        {
            if (Built.TryGetValue(name, out var built))
                return built;
            var dir = Directory.CreateDirectory(RepoPaths.Combine("build", "bench-c")).FullName;
            var binary = Path.Combine(dir, name);
            var result = await RunAsync(
                "gcc",
                [
                    "-O2", "-Wall", "-Wextra", "-Werror", "-o", binary,
                    RepoPaths.Combine("bench", "loadgen", $"{name}.c"),
                ],
                TimeSpan.FromMinutes(2));
            if (result.Exit != 0)
                throw new InvalidOperationException($"gcc failed to build {name} ({result.Exit}):\n{result.Stderr}");
            return Built[name] = binary;
        }
        finally
        {
            BuildLock.Release();
        }
    }

    /// <summary>Runs <paramref name="program"/> to its end (killed after <paramref name="limit"/>).</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(
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
