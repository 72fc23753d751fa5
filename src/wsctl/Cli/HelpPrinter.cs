using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Text;

namespace Wsctl.Cli;

/// <summary>
/// Writes --help: the verb's description (examples and exit codes included), usage, arguments, options with their
/// defaults as users type them (<c>5s</c>, not <c>00:00:05</c>), and, for the root, one line per verb.
/// </summary>
public sealed class HelpPrinter : SynchronousCommandLineAction
{
    /// <summary>Replaces the root's --help action (it applies to every verb: the option is recursive).</summary>
    public static void Install(RootCommand root)
    {
        foreach (var option in root.Options.OfType<HelpOption>())
            option.Action = new HelpPrinter();
    }

    public override int Invoke(ParseResult parseResult)
    {
        Console.Out.Write(Render(
            parseResult.CommandResult.Command, Console.IsOutputRedirected ? 120 : Math.Max(80, SafeWidth())));
        return 0;
    }

    /// <summary>The help text of <paramref name="command"/>, wrapped at <paramref name="width"/> columns.</summary>
    public static string Render(Command command, int width)
    {
        var text = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(command.Description))
            text.Append(command.Description.TrimEnd()).Append("\n\n");
        text.Append("Usage:\n  ").Append(Usage(command)).Append("\n\n");

        var arguments = command.Arguments.Where(a => !a.Hidden)
            .Select(a => ($"<{a.Name}>", a.Description ?? ""))
            .ToList();
        Section(text, "Arguments:", arguments, width);

        var options = AllOptions(command).Where(o => !o.Hidden).Select(o => (OptionLabel(o), Describe(o))).ToList();
        Section(text, "Options:", options, width);

        var verbs = command.Subcommands.Where(c => !c.Hidden)
            .Select(c => (c.Name, FirstSentence(c.Description)))
            .ToList();
        Section(text, "Verbs (wsctl VERB --help for each one's options, examples and exit codes):", verbs, width);
        return text.ToString();
    }

    /// <summary>The command's usage line, e.g. <c>wsctl send [TARGET] [MESSAGE] [options]</c>.</summary>
    public static string Usage(Command command)
    {
        if (command is RootCommand)
            return "wsctl VERB [options]";
        var arguments = command.Arguments.Where(a => !a.Hidden)
            .Select(a => a.Arity.MinimumNumberOfValues > 0 ? $"<{a.Name}>" : $"[{a.Name}]");
        return string.Join(' ', [Path(command), .. arguments, "[options]"]);
    }

    /// <summary>"wsctl" and the verb names down to <paramref name="command"/>.</summary>
    public static string Path(Command command)
    {
        var names = new List<string>();
        for (Command? c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
            names.Insert(0, c is RootCommand ? "wsctl" : c.Name);
        return string.Join(' ', names);
    }

    private static void Section(
        StringBuilder text, string title, List<(string Label, string Description)> rows, int width)
    {
        if (rows.Count == 0)
            return;
        text.Append(title).Append('\n');
        var labelWidth = Math.Min(34, rows.Max(r => r.Label.Length));
        var descriptionWidth = Math.Max(30, width - labelWidth - 4);
        foreach (var (label, description) in rows)
        {
            var lines = Wrap(description, descriptionWidth);
            var first = label.Length > labelWidth
                ? $"  {label}\n{new string(' ', labelWidth + 4)}"
                : $"  {label.PadRight(labelWidth)}  ";
            text.Append(first).Append(lines.FirstOrDefault() ?? "").Append('\n');
            foreach (var line in lines.Skip(1))
                text.Append(new string(' ', labelWidth + 4)).Append(line).Append('\n');
        }
        text.Append('\n');
    }

    private static string OptionLabel(Option option)
    {
        var names = option.Aliases.Where(a => a.StartsWith('-') && a.Length == 2).Order(StringComparer.Ordinal)
            .Append(option.Name);
        var label = string.Join(", ", names);
        if (option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool))
            return label;
        var valueName = option.HelpName;
        if (valueName is null)
        {
            var choices = option.GetCompletions(CompletionContext.Empty).Select(c => c.Label).ToList();
            valueName = choices.Count > 0 ? string.Join('|', choices) : "VALUE";
        }
        return $"{label} <{valueName}>";
    }

    private static string Describe(Option option)
    {
        var description = option.Description ?? "";
        if (!option.HasDefaultValue || option.ValueType == typeof(bool))
            return description;
        var shown = option.GetDefaultValue() switch
        {
            TimeSpan duration => Duration.Format(duration),
            string s when s.Length > 0 => s,
            int n => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        };
        return shown is null ? description : $"{description} [default: {shown}]";
    }

    /// <summary>
    /// The command's own options, then the recursive ones of its ancestors (-v, -q, --log-format, --help).
    /// </summary>
    public static IEnumerable<Option> AllOptions(Command command)
    {
        var seen = new HashSet<string>();
        var own = command.Options.Where(o => seen.Add(o.Name)).ToList();
        var inherited = new List<Option>();
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null;
             parent = parent.Parents.OfType<Command>().FirstOrDefault())
            inherited.AddRange(parent.Options.Where(o => o.Recursive && seen.Add(o.Name)));
        return own.Concat(inherited);
    }

    private static List<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        foreach (var paragraph in text.Split('\n'))
        {
            var line = new StringBuilder();
            foreach (var word in paragraph.Split(' '))
            {
                if (line.Length > 0 && line.Length + 1 + word.Length > width)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                }
                if (line.Length > 0)
                    line.Append(' ');
                line.Append(word);
            }
            lines.Add(line.ToString());
        }
        return lines;
    }

    private static string FirstSentence(string? text)
    {
        var firstParagraph = (text ?? "").Split('\n')[0];
        var end = firstParagraph.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? firstParagraph.TrimEnd('.') : firstParagraph[..end];
    }

    private static int SafeWidth()
    {
        try
        {
            return Console.WindowWidth;
        }
        catch (IOException)
        {
            return 120;
        }
    }
}
