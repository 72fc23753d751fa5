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
/// close 1001, serve's clean stop with exit 0) instead of being cut off. SIGHUP means "reload" only to a verb that
/// has something to reload (serve with certificate files), which registers <see cref="ReloadSignal"/> for it; for
/// the others a hangup still ends the process.
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
        ExitCode exit;
        string? error = null;
        string? errorHint = null;
        try
        {
            exit = await body(logger, cancel);
        }
        catch (WsCoreException e)
        {
            (error, errorHint) = InputFlags.Describe(e, parse);
            Report(error, errorHint);
            exit = ExitCodes.From(e.Kind);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            error = "interrupted";
            Report(error, null);
            exit = ExitCode.Interrupted;
        }
        catch (Exception e)
        {
            // A bug: one line, the trace only with -v, exit 2 (never an unhandled exception's dump).
            logger.Debug(e, "Unexpected error");
            exit = (ExitCode)ReportUnexpected(e, verbose: false);
            error = $"unexpected error: {e.Message.Split('\n')[0].Trim()}";
        }
        // --json promises a result object last on every way out: the verb's own, or this plain one.
        if (WantsJson(parse) && !JsonLines.ResultWritten)
            TryWriteResult(exit, error ?? (exit == ExitCode.Ok ? null : ExitCodes.Meaning(exit)), errorHint);
        return (int)exit;
    }

    private static bool WantsJson(ParseResult parse) =>
        parse.CommandResult.Command.Options.FirstOrDefault(o => o.Name == "--json") is Option<bool> json
        && parse.GetValue(json);

    // Written on a thread of its own and waited for this long: a stdout that is open but not read (a paused pager, a
    // full pipe) would keep the write, and the process, waiting for ever.
    private static readonly TimeSpan ResultWait = TimeSpan.FromSeconds(2);

    private static void TryWriteResult(ExitCode exit, string? error, string? hint)
    {
        var writing = Task.Run(() => new JsonLines(Console.OpenStandardOutput()).WriteResult(exit, error, hint));
        try
        {
            writing.Wait(ResultWait);
        }
        catch (AggregateException e) when (e.InnerException is IOException)
        {
            // Nobody reads stdout any more (a closed pipe): the exit code still says it.
        }
    }

    public static void ReportError(string message, string? hint)
    {
        Console.Error.WriteLine($"wsctl: {message}");
        if (!string.IsNullOrEmpty(hint))
            Console.Error.WriteLine($"hint: {hint}");
    }

    /// <summary>Anything no verb expected: one line (the trace with -v), exit 2.</summary>
    public static int ReportUnexpected(Exception e, bool verbose)
    {
        var message = (e.Message.Split('\n')[0].Trim() is { Length: > 0 } line ? line : e.GetType().Name);
        Console.Error.WriteLine($"wsctl: unexpected error: {message}");
        if (verbose)
            Console.Error.WriteLine(e.ToString());
        else
            Console.Error.WriteLine("hint: run again with -v to see where it happened, and report it");
        return (int)ExitCode.Failure;
    }
}
