using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace WsCore.Tests.Support;

/// <summary>
/// bench/loadgen/bare_echo, the floor of the echo benchmarks, built as bench/run.sh builds it and started on a port
/// the system picks (read from its "listening on" line); killed on dispose.
/// </summary>
public sealed partial class BareEcho : IDisposable
{
    private readonly Process _process;

    private BareEcho(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"ws://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/";

    public bool HasExited => _process.HasExited;

    public static async Task<BareEcho> StartAsync()
    {
        var info = new ProcessStartInfo(await BenchCPrograms.BuildAsync("bare_echo"))
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--port");
        info.ArgumentList.Add("0");
        var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            var line = await process.StandardError.ReadLineAsync(timeout.Token) ?? "";
            var listening = ListeningLine().Match(line);
            if (!listening.Success)
                throw new InvalidOperationException($"bare_echo did not start: '{line}'");
            return new BareEcho(process, int.Parse(listening.Groups[1].Value, CultureInfo.InvariantCulture));
        }
        catch
        {
            ChildProcess.KillAndDispose(process);
            throw;
        }
    }

    public void Dispose() => ChildProcess.KillAndDispose(_process);

    [GeneratedRegex(@"^bare_echo: listening on 127\.0\.0\.1:(\d+)$")]
    private static partial Regex ListeningLine();
}
