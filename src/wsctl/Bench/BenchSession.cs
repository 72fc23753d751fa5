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

        if (json)
            BenchOutput.Json(result, options, stdout);
        else
            stdout.Write(Encoding.UTF8.GetBytes(BenchOutput.Text(result, options)));
        stdout.Flush();

        if (result.Interrupted)
        {
            VerbRunner.ReportError("interrupted: the results are partial", null);
            return ExitCode.Interrupted;
        }
        if (result.Connected == 0)
            throw new WsCoreException(FailureKind.ConnectionFailed,
                "no connection could be made" + (result.ErrorSamples.Count > 0 ? ": " + result.ErrorSamples[0] : ""));
        if (result.Errors == 0 && result.Lost == 0)
            return ExitCode.Ok;
        VerbRunner.ReportError(
            string.Create(CultureInfo.InvariantCulture, $"{result.Lost:N0} lost, {result.Errors:N0} errors"),
            HintFor(result));
        return ExitCode.Failure;
    }

    /// <summary>
    /// What to try when nothing at all came back: the usual cause is a server that does not do what the mode needs.
    /// </summary>
    private static string? HintFor(BenchResult result) => result switch
    {
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
