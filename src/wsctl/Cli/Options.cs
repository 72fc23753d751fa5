using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Wsctl.Cli;

/// <summary>
/// Option builders shared by the verbs, so each kind of value is parsed and explained one way. Each parses its own
/// text and names the option, what it expects and what it got ("--port: expected a number 1-65535, got 'abc'"):
/// nothing later reads a value that did not parse.
/// </summary>
public static class Options
{
    /// <summary>
    /// A duration option accepting <c>500ms</c>, <c>5s</c>, <c>1m</c> (0 too when <paramref name="minimum"/> is 0).
    /// </summary>
    public static Option<TimeSpan> Duration(
        string name, string description, TimeSpan defaultValue, TimeSpan? minimum = null, params string[] aliases)
    {
        var least = minimum ?? TimeSpan.Zero;
        return new Option<TimeSpan>(name, aliases)
        {
            Description = description,
            HelpName = "DURATION",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (Cli.Duration.TryParse(text, out var value) && value >= least)
                    return value;
                result.AddError($"{name}: expected a " +
                    $"duration{(least > TimeSpan.Zero ? $" of at least {Cli.Duration.Format(least)}" : "")} such as " +
                    $"500ms, 5s or 2m, got {Quote(text)}" + UnitHint(text));
                return defaultValue;
            },
        };
    }

    /// <summary>
    /// A duration option that may be absent (null), accepting <c>0</c> and durations such as <c>500ms</c>, <c>5s</c>,
    /// <c>1m</c> up to <paramref name="maximum"/>.
    /// </summary>
    public static Option<TimeSpan?> OptionalDuration(
        string name, string description, TimeSpan maximum, params string[] aliases) =>
        new(name, aliases)
        {
            Description = description,
            HelpName = "DURATION",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (Cli.Duration.TryParse(text, out var value) && value <= maximum)
                    return value;
                result.AddError($"{name}: expected 0 or a duration of at most {Cli.Duration.Format(maximum)} such as " +
                    $"500ms, 5s or 2m, got {Quote(text)}" + UnitHint(text));
                return null;
            },
        };

    // "5" is refused for want of a unit: say which units there are.
    private static string UnitHint(string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiDigit(c) || c == '.')
            ? $"; give a unit: {text}s, {text}ms or {text}m"
            : "";

    /// <summary>A whole-number option in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int> Integer(
        string name,
        string description,
        int defaultValue,
        int min,
        int max,
        string helpName = "N",
        params string[] aliases) =>
        new(name, aliases)
        {
            Description = description,
            HelpName = helpName,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => ParseInteger(result, name, min, max) ?? defaultValue,
        };

    /// <summary>
    /// A whole-number option in [<paramref name="min"/>, <paramref name="max"/>] that may be absent (null).
    /// </summary>
    public static Option<int?> OptionalInteger(
        string name, string description, int min, int max, string helpName = "N", params string[] aliases) =>
        new(name, aliases)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result => ParseInteger(result, name, min, max),
        };

    /// <summary>A decimal number in (0, <paramref name="max"/>] that may be absent (null).</summary>
    public static Option<double?> OptionalPositiveNumber(
        string name, string description, double max, string helpName, params string[] aliases) =>
        new(name, aliases)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
                    && value > 0 && value <= max)
                    return value;
                result.AddError($"{name}: expected a number above 0 and at most {max:0.###}, got {Quote(text)}");
                return null;
            },
        };

    /// <summary>A TCP port option, 1..65535 (0 too, when <paramref name="allowZero"/>: the OS picks one).</summary>
    public static Option<int> Port(
        string description, int defaultValue, bool allowZero = false, params string[] aliases) =>
        Integer("--port", description, defaultValue, allowZero ? 0 : 1, 65535, "PORT", aliases);

    /// <summary>
    /// Accepts only <paramref name="values"/> (offered to shells for completion; the first spellings listed are
    /// the ones shown), refusing anything else with the option's name: "--mode: expected one of echo, …, got 'x'".
    /// </summary>
    public static Option<T> OnlyFrom<T>(this Option<T> option, params string[] values)
    {
        option.CompletionSources.Add(values);
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (values.Contains(token.Value, StringComparer.Ordinal))
                    continue;
                var near = DidYouMean.Suggest(token.Value, values);
                result.AddError($"{option.Name}: expected one of " +
                    $"{string.Join(", ", values.Where(v => !v.Contains('_')))}, got {Quote(token.Value)}" +
                    (near.Count > 0 ? $"; did you mean {near[0]}?" : ""));
            }
        });
        return option;
    }

    private static int? ParseInteger(ArgumentResult result, string name, int min, int max)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            && value >= min && value <= max)
            return value;
        var range = max == int.MaxValue ? $"{min} or more" : $"{min}-{max}";
        result.AddError($"{name}: expected a number {range}, got {Quote(text)}");
        return null;
    }

    /// <summary>
    /// Refuses any of <paramref name="dependents"/> given without <paramref name="required"/>
    /// ("--cluster-name applies to --cluster; give both."). A dependent whose value does not parse is left to its own
    /// error, which names it: one message per mistake.
    /// </summary>
    public static void RequireWith(this Command command, Option required, params Option[] dependents) =>
        command.Validators.Add(r =>
        {
            if (r.GetResult(required) is not null)
                return;
            foreach (var dependent in dependents)
                if (r.GetResult(dependent) is { Implicit: false } given && ValueParses(given))
                    r.AddError($"{dependent.Name} applies to {required.Name}; give both.");
        });

    private static bool ValueParses(OptionResult given)
    {
        try
        {
            given.GetValueOrDefault<object?>();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The text as the user typed it, quoted, with control characters shown as escapes (one line).</summary>
    public static string Quote(string text)
    {
        var shown = new System.Text.StringBuilder(text.Length + 2).Append('\'');
        foreach (var c in text.Length > 60 ? text[..57] + "..." : text)
            shown.Append(char.IsControl(c) ? $"\\x{(int)c:X2}" : c.ToString());
        return shown.Append('\'').ToString();
    }
}
