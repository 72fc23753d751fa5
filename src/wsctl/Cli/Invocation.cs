using System.CommandLine;
using System.CommandLine.Invocation;

namespace Wsctl.Cli;

/// <summary>
/// Parses and runs a command line, and is the one place every way of ending becomes an exit code and at most a few
/// lines on stderr: a usage error (exit 1: the error, the usage line, where the help is; stdout stays empty), a verb's
/// own result, or anything unexpected (exit 2: its message in one line; the stack trace only with -v).
/// </summary>
public static class Invocation
{
    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var root = WsctlCommand.Create();
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
                return ReportUsageError(parse);
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return ReportUnexpected(e, verbose: args.Contains("-v") || args.Contains("--verbose"));
        }
    }

    /// <summary>The parse errors, the verb's usage line and where its help is, on stderr; exit 1.</summary>
    public static int ReportUsageError(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        foreach (var error in parse.Errors.Select(e => e.Message.Split('\n')[0].TrimEnd('.')).Distinct())
            Console.Error.WriteLine($"wsctl: {error}");
        Console.Error.WriteLine($"usage: {HelpPrinter.Usage(command)}");
        Console.Error.WriteLine($"see '{HelpPrinter.Path(command)} --help'");
        return (int)ExitCode.Usage;
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
