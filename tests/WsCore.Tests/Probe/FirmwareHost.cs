using System.Diagnostics;
using System.Text.RegularExpressions;
using WsCore.Tests.Support;
using Wsctl.Cli;

namespace WsCore.Tests.Probe;

/// <summary>
/// The firmware's host build (<c>ws_server_host</c>: the ESP32 firmware's portable core on POSIX sockets), built once
/// per test run with cmake into build/firmware-host when it is not there yet, and run on a free loopback port.
/// </summary>
public sealed partial class FirmwareHost : IDisposable
{
    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private readonly Process _process;

    private FirmwareHost(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    private static string RepositoryRoot
    {
        get
        {
            // tests/WsCore.Tests/bin/CONFIG/TFM/ → the repository root.
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "wsctl.sln")))
                dir = dir.Parent;
            return dir?.FullName
                ?? throw new DirectoryNotFoundException("wsctl.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Builds ws_server_host if needed; returns its path.</summary>
    public static async Task<string> BuildAsync()
    {
        var root = RepositoryRoot;
        var buildDir = Path.Combine(root, "build", "firmware-host");
        var binary = Path.Combine(buildDir, "ws_server_host");
        await BuildLock.WaitAsync();
        try
        {
            // cmake --build is incremental: a current binary costs a second, a stale one is rebuilt from the sources.
            await RunCheckedAsync(
                "cmake",
                ["-S", Path.Combine(root, "src", "firmware", "host"), "-B", buildDir, "-DCMAKE_BUILD_TYPE=Release"]);
            await RunCheckedAsync("cmake", ["--build", buildDir, "--target", "ws_server_host"]);
            return File.Exists(binary)
                ? binary
                : throw new FileNotFoundException("cmake built no ws_server_host", binary);
        }
        finally
        {
            BuildLock.Release();
        }
    }

    /// <summary>
    /// Starts ws_server_host on a free port with <paramref name="args"/> and waits for "listening on port N".
    /// </summary>
    public static async Task<FirmwareHost> StartAsync(params string[] args)
    {
        var info = new ProcessStartInfo(await BuildAsync())
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["--port", "0", .. args])
            info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null && ListeningLine().Match(e.Data) is { Success: true } match)
                listening.TrySetResult(int.Parse(
                    match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            return new FirmwareHost(process, await listening.Task.WaitAsync(TimeSpan.FromSeconds(20)));
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    public void Dispose() => ChildProcess.KillAndDispose(_process);

    private static async Task RunCheckedAsync(string fileName, string[] args)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false
        };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(limit.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} {string.Join(' ', args)} failed ({process.ExitCode}):\n" +
                $"{await stdout}\n{await stderr}");
    }

    [GeneratedRegex(@"listening on port (\d+)")]
    private static partial Regex ListeningLine();
}
