using System.CommandLine;
using System.CommandLine.Completions;

namespace Wsctl.Cli;

/// <summary>How the value of an option is completed by a shell.</summary>
public enum ValueKind
{
    /// <summary>A flag: takes no value.</summary>
    None,
    /// <summary>Free text (a number, a message): nothing to offer.</summary>
    Text,
    /// <summary>One of a fixed list of values.</summary>
    Choice,
    /// <summary>A file or directory path.</summary>
    Path,
    /// <summary>A serial device (or <c>auto</c>, or <c>socket://</c>).</summary>
    SerialDevice,
}

public sealed record OptionInfo(
    IReadOnlyList<string> Names, string Description, ValueKind Kind, IReadOnlyList<string> Choices);

/// <param name="ArgumentValues">Fixed values of the command's positional arguments (e.g. the shells of
/// <c>completion</c>).</param>
public sealed record CommandInfo(IReadOnlyList<string> Path, string Summary, IReadOnlyList<OptionInfo> Options,
    IReadOnlyList<CommandInfo> Subcommands, IReadOnlyList<string> ArgumentValues)
{
    public string Key => string.Join(' ', Path);
}

/// <summary>
/// A plain model of the command tree (verbs, options, fixed values), read from System.CommandLine's symbols, from
/// which the shell completion scripts are generated. What an option's value is comes from its help name:
/// FILE, DIR, PATH or OFFSET=FILE complete paths; DEVICE completes serial ports; fixed values come from the
/// option's own completions (AcceptOnlyFromAmong, enums).
/// </summary>
public static class CommandTree
{
    public static CommandInfo Read(Command root) => Read(root, []);

    private static CommandInfo Read(Command command, IReadOnlyList<string> path)
    {
        var options = new List<OptionInfo>();
        foreach (var option in AllOptions(command))
        {
            if (option.Hidden)
                continue;
            // '/?', '/h' and '-?' are Windows-style spellings of --help; shells on Unix don't need them offered.
            var names = new[] { option.Name }.Concat(option.Aliases.Order(StringComparer.Ordinal))
                .Where(n => n.StartsWith('-') && n != "-?").ToList();
            options.Add(new OptionInfo(names, FirstLine(option.Description), KindOf(option, out var choices), choices));
        }
        var subcommands = command.Subcommands.Where(c => !c.Hidden)
            .Select(c => Read(c, [.. path, c.Name])).ToList();
        var argumentValues = command.Arguments.Where(a => !a.Hidden)
            .SelectMany(a => a.GetCompletions(CompletionContext.Empty)).Select(c => c.Label).ToList();
        return new CommandInfo(path, FirstLine(command.Description), options, subcommands, argumentValues);
    }

    /// <summary>The command's own options plus recursive ones inherited from its ancestors.</summary>
    private static IEnumerable<Option> AllOptions(Command command)
    {
        var seen = new HashSet<string>();
        foreach (var option in command.Options)
            if (seen.Add(option.Name))
                yield return option;
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent != null;
             parent = parent.Parents.OfType<Command>().FirstOrDefault())
        {
            foreach (var option in parent.Options.Where(o => o.Recursive))
                if (seen.Add(option.Name))
                    yield return option;
        }
    }

    private static ValueKind KindOf(Option option, out IReadOnlyList<string> choices)
    {
        choices = [];
        if (option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool))
            return ValueKind.None;
        var helpName = option.HelpName ?? "";
        if (helpName is "DEVICE")
            return ValueKind.SerialDevice;
        if (helpName is "FILE" or "DIR" or "PATH" || helpName.EndsWith("FILE", StringComparison.Ordinal))
            return ValueKind.Path;
        var values = option.GetCompletions(CompletionContext.Empty).Select(c => c.Label).ToList();
        if (values.Count > 0)
        {
            choices = values;
            return ValueKind.Choice;
        }
        return ValueKind.Text;
    }

    private static string FirstLine(string? text)
    {
        var line = (text ?? "").Split('\n')[0].Trim();
        return line.Length > 90 ? line[..87] + "..." : line;
    }

    public static IEnumerable<CommandInfo> Flatten(CommandInfo command) =>
        new[] { command }.Concat(command.Subcommands.SelectMany(Flatten));
}
