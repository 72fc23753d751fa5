using System.Text;
using WsCore.Tests.Support;

namespace WsCore.Tests.Examples;

/// <summary>An example command as a user reads it, and where it was found.</summary>
/// <param name="Command">The command line, without its comment (what follows an unquoted '#').</param>
/// <param name="Source">Where: "README.md:LINE" or "wsctl VERB --help".</param>
public sealed record ExtractedExample(string Command, string Source);

/// <summary>
/// Finds every example a user can copy: each command line of README.md's <c>```sh</c> blocks, and each line of the
/// "Examples:" section that every verb's <c>--help</c> prints (HelpText.Describe builds it).
/// </summary>
public static class ExampleExtractor
{
    /// <summary>Every example of README.md and of every verb's --help, in the order found.</summary>
    public static async Task<IReadOnlyList<ExtractedExample>> AllAsync()
    {
        var help = await Task.WhenAll(Verbs().Select(FromHelpAsync));
        return [.. FromReadme(File.ReadAllText(RepoPaths.Combine("README.md"))), .. help.SelectMany(h => h)];
    }

    /// <summary>The verbs <c>wsctl --help</c> lists, from the command tree itself.</summary>
    public static IReadOnlyList<string> Verbs() =>
        [.. Wsctl.WsctlCommand.Create().Subcommands.Where(c => !c.Hidden).Select(c => c.Name)];

    /// <summary>The command lines of the <c>```sh</c> blocks of <paramref name="markdown"/>.</summary>
    public static IReadOnlyList<ExtractedExample> FromReadme(string markdown)
    {
        var found = new List<ExtractedExample>();
        var lines = markdown.Split('\n');
        var inBlock = false;
        var pending = new StringBuilder();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock && line.Trim() == "```sh";
                continue;
            }
            if (!inBlock)
                continue;
            var command = StripComment(line);
            // A line ending in '\' goes on on the next one, as in the shell.
            if (command.EndsWith('\\'))
            {
                pending.Append(command[..^1]);
                continue;
            }
            command = (pending + command).Trim();
            pending.Clear();
            if (command.Length > 0)
                found.Add(new ExtractedExample(command, $"README.md:{i + 1}"));
        }
        return found;
    }

    /// <summary>The lines of the "Examples:" section of <c>wsctl VERB --help</c>, as printed.</summary>
    public static async Task<IReadOnlyList<ExtractedExample>> FromHelpAsync(string verb)
    {
        var help = await WsctlProcess.RunAsync([verb, "--help"], timeout: TimeSpan.FromMinutes(1));
        Assert.True(help.ExitCode == 0, $"wsctl {verb} --help: {help.All}");
        return FromHelpText(help.Stdout, $"wsctl {verb} --help");
    }

    /// <summary>The lines under "Examples:" up to the first blank line, without their comments.</summary>
    public static IReadOnlyList<ExtractedExample> FromHelpText(string help, string source)
    {
        var lines = help.Replace("\r\n", "\n").Split('\n');
        var start = Array.FindIndex(lines, l => l.Trim() == "Examples:");
        Assert.True(start >= 0, $"{source} has no \"Examples:\" section");
        return
        [
            .. lines.Skip(start + 1)
                .TakeWhile(l => l.Trim().Length > 0)
                .Select(StripComment)
                .Where(c => c.Length > 0)
                .Select(c => new ExtractedExample(c, source)),
        ];
    }

    /// <summary>
    /// The line without its comment: a '#' outside quotes that starts a word (after a blank or at the start) begins
    /// one, as in the shell. Blanks around what is left are removed.
    /// </summary>
    public static string StripComment(string line)
    {
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote is { } open)
            {
                if (c == open)
                    quote = null;
                else if (c == '\\' && open == '"')
                    i++;
            }
            else if (c is '\'' or '"')
                quote = c;
            else if (c == '\\')
                i++;
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1])))
                return line[..i].Trim();
        }
        return line.Trim();
    }
}
