namespace Wsctl.Cli;

/// <summary>
/// Builds a verb's description: what it does, one to three real examples, and the exit codes it returns.
/// </summary>
public static class HelpText
{
    public static string Describe(string summary, string[] examples, params ExitCode[] exitCodes) =>
        Describe(summary, examples, null, exitCodes);

    /// <summary>The same, with <paramref name="notes"/> (paragraphs) between the examples and the exit codes.</summary>
    public static string Describe(string summary, string[] examples, string? notes, params ExitCode[] exitCodes)
    {
        var text = summary + "\n\nExamples:\n" + string.Join("\n", examples.Select(e => "  " + e));
        if (notes is not null)
            text += "\n\n" + notes.TrimEnd();
        return text + "\n\n" + ExitCodes.Describe(exitCodes);
    }
}
