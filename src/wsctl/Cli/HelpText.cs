namespace Wsctl.Cli;

/// <summary>
/// Builds a verb's description: what it does, one to three real examples, and the exit codes it returns.
/// </summary>
public static class HelpText
{
    public static string Describe(string summary, string[] examples, params ExitCode[] exitCodes)
    {
        var text = summary + "\n\nExamples:\n" + string.Join("\n", examples.Select(e => "  " + e));
        return text + "\n\n" + ExitCodes.Describe(exitCodes);
    }
}
