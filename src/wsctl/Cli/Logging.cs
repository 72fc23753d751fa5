using System.CommandLine;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Wsctl.Cli;

/// <summary>
/// Serilog, configured in code (no reflection-based settings: NativeAOT stays clean), writing to stderr.
/// </summary>
public static class Logging
{
    public static Logger Create(ParseResult parse)
    {
        var level = parse.GetValue(GlobalOptions.Quiet) ? LogEventLevel.Error
            : parse.GetValue(GlobalOptions.Verbose) ? LogEventLevel.Debug
            : LogEventLevel.Information;
        var config = new LoggerConfiguration().MinimumLevel.Is(level);
        // Every level goes to stderr: stdout belongs to the verb's output (messages, JSON lines).
        config = parse.GetValue(GlobalOptions.LogFormat) == "json"
            ? config.WriteTo.Console(new JsonLogFormatter(), standardErrorFromLevel: LogEventLevel.Verbose)
            : config.WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose);
        return config.CreateLogger();
    }
}
