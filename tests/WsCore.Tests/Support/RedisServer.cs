using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Wsctl.Cli;

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

    private readonly RedisServerOptions _options;

    private RedisServer(int port, RedisServerOptions options) => (Port, _options) = (port, options);

    public int Port { get; }

    /// <summary>The URL serve's --cluster takes (<c>rediss://localhost</c> with TLS; never the password).</summary>
    public string Url => _options.Tls is null ? $"redis://127.0.0.1:{Port}/0" : $"rediss://localhost:{Port}/0";

    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    /// <summary>Starts a Redis on a free port and waits until it accepts connections.</summary>
    public static async Task<RedisServer> StartNewAsync(RedisServerOptions? options = null)
    {
        var redis = new RedisServer(FreePort(), options ?? new RedisServerOptions());
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
        var port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] listen = _options.Tls is { } tls
            ? ["--port", "0", "--tls-port", port, "--tls-cert-file", tls.CertificateFile, "--tls-key-file", tls.KeyFile,
               "--tls-auth-clients", "no"]
            : ["--port", port];
        string[] auth = _options.Password is { } password ? ["--requirepass", password] : [];
        foreach (var arg in (string[])[.. listen, .. auth, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--dir", _directory, "--daemonize", "no", "--loglevel", "notice"])
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
        if (_options.Password is { } password)
            info.Environment["REDISCLI_AUTH"] = password;
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

/// <summary>How a <see cref="RedisServer"/> asks clients to log in.</summary>
/// <param name="Password">requirepass, or null for none.</param>
/// <param name="Tls">TLS only (no plain port), with this certificate and key (PEM files); null for plain TCP.</param>
public sealed record RedisServerOptions(string? Password = null, RedisTlsFiles? Tls = null);

/// <summary>A server certificate and its private key, as PEM files.</summary>
public sealed record RedisTlsFiles(string CertificateFile, string KeyFile);
