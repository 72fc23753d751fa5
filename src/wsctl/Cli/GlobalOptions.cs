using System.CommandLine;

namespace Wsctl.Cli;

/// <summary>Options every verb takes: how much to log and in which format. Logs always go to stderr.</summary>
public static class GlobalOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Log more (debug level) to stderr.",
        Recursive = true,
    };

    public static readonly Option<bool> Quiet = new("--quiet", "-q")
    {
        Description = "Log only errors to stderr.",
        Recursive = true,
    };

    public static readonly Option<string> LogFormat = new Option<string>("--log-format")
    {
        Description = "Format of the log lines on stderr.",
        DefaultValueFactory = _ => "text",
        HelpName = "text|json",
        Recursive = true,
    }.OnlyFrom("text", "json");

    public static void AddTo(Command root)
    {
        root.Options.Add(Verbose);
        root.Options.Add(Quiet);
        root.Options.Add(LogFormat);
    }
}
