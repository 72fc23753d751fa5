using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Wsctl.Cli;

namespace WsCore.Tests.Support;

/// <summary>
/// Debian's <c>haproxy</c> running the documented configuration <c>deploy/haproxy/wsctl-cluster.cfg</c>, in the
/// foreground (-db), its frontend on a free loopback port and its three servers given by the caller. Killed on dispose.
/// </summary>
public sealed class HaProxy : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private HaProxy(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The frontend's port on 127.0.0.1.</summary>
    public int Port { get; }

    public static string ConfigPath => RepoPaths.Combine("deploy", "haproxy", "wsctl-cluster.cfg");

    /// <summary>Starts HAProxy in front of the three instances on <paramref name="servers"/>; returns once it
    /// accepts.</summary>
    public static async Task<HaProxy> StartAsync(IReadOnlyList<int> servers)
    {
        var port = RedisServer.FreePort();
        var info = new ProcessStartInfo("haproxy")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-db", "-f", ConfigPath })
            info.ArgumentList.Add(arg);
        info.Environment["WSCTL_FRONTEND"] = $"127.0.0.1:{port}";
        for (var i = 0; i < 3; i++)
            info.Environment[$"WSCTL_S{i + 1}"] = $"127.0.0.1:{servers[i]}";
        var process = new Process { StartInfo = info };
        var proxy = new HaProxy(process, port);
        process.OutputDataReceived += (_, e) => proxy.Append(e.Data);
        process.ErrorDataReceived += (_, e) => proxy.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"haproxy exited ({process.ExitCode}):\n{proxy.Log}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
                return proxy;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        proxy.Dispose();
        throw new TimeoutException($"haproxy not accepting within 15 s:\n{proxy.Log}");
    }

    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    public void Dispose() => ChildProcess.KillAndDispose(_process);

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }
}
