using System.CommandLine;
using System.CommandLine.Invocation;
using Wsctl.Cli;

namespace Wsctl;

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
            // A mistyped verb or option is an error even beside --help, which would otherwise show the help of
            // whatever did parse and exit 0 (`wsctl nosuchverb --help`).
            if ((parse.Errors.Count > 0 && (parse.Action is ParseErrorAction || parse.UnmatchedTokens.Count > 0))
                || MistypedOptions(parse).Any())
                return ReportUsageError(parse);
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return VerbRunner.ReportUnexpected(e, verbose: args.Contains("-v") || args.Contains("--verbose"));
        }
    }

    /// <summary>The parse errors, the verb's usage line and where its help is, on stderr; exit 1.</summary>
    public static int ReportUsageError(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        foreach (var error in UsageErrors(parse))
            Console.Error.WriteLine($"wsctl: {error}");
        Console.Error.WriteLine($"usage: {HelpPrinter.Usage(command)}");
        Console.Error.WriteLine($"see '{HelpPrinter.Path(command)} --help'");
        return (int)ExitCode.Usage;
    }

    /// <summary>
    /// The parse errors, one line each: an unknown word says so with the nearest verb or option ("did you mean
    /// serve?"); a missing verb says which verbs there are. Only the first word is told where a verb was expected,
    /// and no plain word once an option was unknown: the words after a misspelt verb are its arguments, and a word
    /// after an unknown option is most likely that option's value, each a line of noise.
    /// </summary>
    public static IEnumerable<string> UsageErrors(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var unmatched = parse.UnmatchedTokens;
        var unknownOptions = MistypedOptions(parse).Concat(unmatched.Where(t => t.StartsWith('-'))).ToList();
        var unknownWords = unmatched.Where(t => !t.StartsWith('-'));
        if (unknownOptions.Count > 0)
            unknownWords = [];
        else if (command.Subcommands.Count > 0)
            unknownWords = unknownWords.Take(1);
        foreach (var token in unknownOptions.Concat(unknownWords))
        {
            var verbs = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);
            var options = HelpPrinter.AllOptions(command).Where(o => !o.Hidden)
                .SelectMany(o => new[] { o.Name }.Concat(o.Aliases)).Where(n => n.StartsWith("--"));
            var near = DidYouMean.Suggest(token, token.StartsWith('-') ? options : verbs);
            var what = token.StartsWith('-') ? "option" : command.Subcommands.Count > 0 ? "verb" : "argument";
            yield return $"unknown {what} {Options.Quote(token)}" + (near.Count > 0
                ? $"; did you mean {string.Join(" or ", near)}?"
                : command is RootCommand ? $"; the verbs are {string.Join(", ", verbs)}" : "");
        }
        foreach (var error in parse.Errors.Select(e => e.Message.Split('\n')[0].TrimEnd('.')).Distinct())
        {
            if (error.StartsWith("Unrecognized command or argument", StringComparison.Ordinal))
                continue;
            if (error.StartsWith("Required command was not provided", StringComparison.Ordinal))
            {
                if (unmatched.Count == 0)
                    yield return $"give a {(command is RootCommand ? "" : $"{command.Name} ")}verb: " +
                        string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
                continue;
            }
            yield return error;
        }
    }

    // "--wiat" where an argument was expected is taken as the argument's value by the parser; for a person it is
    // a misspelt option ('-' alone, stdin, and "--" are not).
    private static IEnumerable<string> MistypedOptions(ParseResult parse) =>
        parse.CommandResult.Children.OfType<System.CommandLine.Parsing.ArgumentResult>()
            .SelectMany(a => a.Tokens).Select(t => t.Value)
            .Where(v => v.StartsWith("--", StringComparison.Ordinal) && v.Length > 2);

}
