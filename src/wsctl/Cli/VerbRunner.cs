using System.CommandLine;
using Serilog;
using WsCore;

namespace Wsctl.Cli;

/// <summary>
/// Runs a verb's body with a logger, and turns every way it can end into one exit code from <see cref="ExitCodes"/>:
/// WsCore errors by their kind, with their hint on stderr (their fields named as this verb's options, see
/// <see cref="InputFlags"/>); Ctrl-C as 130 unless the verb handled it itself; anything
/// else as 2 with one line (its trace is logged at debug level, so -v shows it).
/// </summary>
/// <remarks>
/// The one place signals are handled: the first SIGINT or SIGTERM cancels the body's token
/// (<see cref="GracefulInterrupt"/>), so every verb can stop its own way and say what it has (a final JSON object, a
/// close 1001, serve's clean stop with exit 0) instead of being cut off.
/// </remarks>
public static class VerbRunner
{
    public static async Task<int> RunAsync(ParseResult parse, CancellationToken cancel,
        Func<ILogger, CancellationToken, Task<ExitCode>> body)
    {
        // System.CommandLine's own handling would end the process 2 s after Ctrl-C, possibly before the verb has
        // written its result; set before the first await, as it reads it once the action has started.
        parse.InvocationConfiguration.ProcessTerminationTimeout = null;
        using var interrupt = new GracefulInterrupt(cancel);
        cancel = interrupt.Token;
        using var logger = Logging.Create(parse);
        // With --log-format json the final error is one more JSON log line, like every other line on stderr.
        var jsonLog = parse.GetValue(GlobalOptions.LogFormat) == "json";
        void Report(string message, string? hint)
        {
            if (jsonLog)
                logger.ForContext("Hint", hint).Error("wsctl: {Error}", message);
            else
                ReportError(message, hint);
        }
        try
        {
            return (int)await body(logger, cancel);
        }
        catch (WsCoreException e)
        {
            var (message, hint) = InputFlags.Describe(e, parse);
            Report(message, hint);
            return (int)ExitCodes.From(e.Kind);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Report("interrupted", null);
            return (int)ExitCode.Interrupted;
        }
        catch (Exception e)
        {
            // A bug: one line, the trace only with -v, exit 2 (never an unhandled exception's dump).
            logger.Debug(e, "Unexpected error");
            return Invocation.ReportUnexpected(e, verbose: false);
        }
    }

    public static void ReportError(string message, string? hint)
    {
        Console.Error.WriteLine($"wsctl: {message}");
        if (!string.IsNullOrEmpty(hint))
            Console.Error.WriteLine($"hint: {hint}");
    }
}
