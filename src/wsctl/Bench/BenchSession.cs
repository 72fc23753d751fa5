using System.Globalization;
using System.Text;
using Serilog;
using WsCore;
using WsCore.Bench;
using Wsctl.Cli;

namespace Wsctl.Bench;

/// <summary>
/// Runs <c>wsctl bench</c>: the load generator with a progress line on a terminal, the results on stdout (also the
/// partial ones after Ctrl-C), and the exit code: 130 interrupted, 4 nothing connected, 2 anything lost or wrong.
/// </summary>
public static class BenchSession
{
    public static async Task<ExitCode> RunAsync(
        BenchOptions options,
        bool json,
        bool showProgress,
        ILogger log,
        Stream stdout,
        CancellationToken interrupt)
    {
        var progress = showProgress ? new BenchProgressLine(Console.Error) : null;
        BenchResult result;
        try
        {
            result = await LoadGenerator.RunAsync(options, log, interrupt, progress);
        }
        finally
        {
            progress?.Clear();
        }

        if (result.GeneratorSaturated)
            log.Warning("the load generator kept {Share:P0} of its {Cores} core(s) busy: the figures may be its " +
                "limit, not the server's (run the server on other cores, e.g. taskset, or bench from another machine)",
                result.GeneratorCpuShare, result.GeneratorCores);
        var (exit, error, hint) = Outcome(result);
        if (json)
            BenchOutput.Json(result, options, new JsonLines(stdout), exit, error, hint);
        else
            stdout.Write(Encoding.UTF8.GetBytes(BenchOutput.Text(result, options)));
        stdout.Flush();
        if (exit == ExitCode.Ok)
            return exit;
        // Nothing connected: the first refusal is the run's failure, with its own kind (refused 4, not a WebSocket
        // server 5, TLS 8...) as every other verb reports it.
        if (result.Connected == 0 && !result.Interrupted)
            throw new WsCoreException(result.FirstConnectFailure?.Kind ?? FailureKind.ConnectionFailed, error!, hint);
        VerbRunner.ReportError(error!, hint);
        return exit;
    }

    /// <summary>The run's exit code and what went wrong: interrupted, nothing connected, loss or errors.</summary>
    private static (ExitCode Exit, string? Error, string? Hint) Outcome(BenchResult result)
    {
        if (result.Interrupted)
            return (ExitCode.Interrupted, "interrupted: the results are partial", null);
        if (result.Connected == 0)
        {
            var first = result.FirstConnectFailure;
            return (ExitCodes.From(first?.Kind ?? FailureKind.ConnectionFailed),
                "no connection could be made" + (first is not null ? ": " + first.Message : ""), first?.Hint);
        }
        if (result.Errors == 0 && result.Lost == 0)
            return (ExitCode.Ok, null, null);
        return (ExitCode.Failure,
            string.Create(CultureInfo.InvariantCulture, $"{result.Lost:N0} lost, {result.Errors:N0} errors"),
            HintFor(result));
    }

    /// <summary>
    /// What to try when nothing at all came back: the usual cause is a server that does not do what the mode needs.
    /// </summary>
    private static string? HintFor(BenchResult result) => result switch
    {
        { RefusedAsFull: > 0 } =>
            $"the server took {result.Connected:N0} of {result.Clients:N0} clients and refused the rest with 503: " +
                $"it is at its client limit (wsctl serve --max-clients {result.Clients}), or run with --clients " +
                $"{result.Connected}",
        { MessagesReceived: > 0 } => null,
        { Mode: BenchMode.Echo, Lost: > 0 } =>
            "no echo came back: the server may not echo (wsctl serve --echo, ws_server_host --echo and a board " +
                "flashed with wsctl flash --device-echo do); --mode ping measures any server",
        { Mode: BenchMode.Broadcast, MessagesSent: > 0 } =>
            "nothing was relayed: broadcast needs a server that sends every message to every client (wsctl serve " +
                "--relay)",
        { Mode: BenchMode.Ping, Lost: > 0 } =>
            "no pong came back: every RFC 6455 server answers a ping (§5.5.2); is TARGET a WebSocket endpoint?",
        _ => null,
    };
}
