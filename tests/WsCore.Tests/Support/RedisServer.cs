using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace WsCore.Tests.Support;

/// <summary>
/// A private <c>redis-server</c> (Debian's, installed by scripts/prereqs.sh) on a free loopback port, no persistence,
/// its files in a temporary directory: never the system service. <see cref="StopAsync"/> and
/// <see cref="StartAsync"/> restart it on the same port (an empty Redis, as after a crash without persistence); the
/// process is killed and the directory removed on dispose.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("wsctl-redis-").FullName;
    private Process? _process;
    private readonly StringBuilder _log = new();

    private RedisServer(int port) => Port = port;

    public int Port { get; }

    /// <summary>The URL serve's --cluster takes.</summary>
    public string Url => $"redis://127.0.0.1:{Port}/0";

    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    /// <summary>Starts a Redis on a free port and waits until it accepts connections.</summary>
    public static async Task<RedisServer> StartNewAsync()
    {
        var redis = new RedisServer(FreePort());
        try
        {
            await redis.StartAsync();
            return redis;
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A loopback TCP port nobody listens on now: the kernel picks one for a socket bound to port 0, which is closed
    /// again. (redis-server cannot be told port 0 and report the port it got.)
    /// </summary>
    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>(Re)starts the server on <see cref="Port"/>; returns once it answers.</summary>
    public async Task StartAsync()
    {
        var info = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var arg in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", _directory, "--daemonize", "no", "--loglevel", "notice",
        })
            info.ArgumentList.Add(arg);
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"redis-server exited ({process.ExitCode}):\n{Log}");
            if (Log.Contains("Ready to accept connections", StringComparison.Ordinal))
                return;
            await Task.Delay(20);
        }
        throw new TimeoutException($"redis-server not ready within 15 s:\n{Log}");
    }

    /// <summary>Kills the server (SIGKILL: as a crash, no goodbye to the clients).</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            if (!process.HasExited)
                process.Kill();
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }

    /// <summary>Runs a command with redis-cli against this server and returns what it printed.</summary>
    public async Task<string> CliAsync(params string[] args)
    {
        var info = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in (string[])["-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args])
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return output.Trim();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }
}
