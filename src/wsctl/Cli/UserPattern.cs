using System.Text.RegularExpressions;

namespace Wsctl.Cli;

/// <summary>
/// A regular expression given on the command line to watch incoming text with (send --wait-for, monitor --until).
/// Matched in linear time where the pattern allows it (.NET's non-backtracking engine: no backreferences,
/// lookarounds, atomic groups or conditionals, and not too large: about 1,000 nodes once its counted repetitions are
/// expanded), so that no message or console line can make a match run away, and a line that matches is never missed
/// for taking long to match; the others keep the backtracking engine with a time limit per match, which each verb
/// answers in its own way.
/// </summary>
public static class UserPattern
{
    /// <summary>
    /// The pattern compiled, or null with <paramref name="error"/> saying why it is not a regular expression (the
    /// parser's first line, such as "Not enough )'s").
    /// </summary>
    public static Regex? TryParse(string text, TimeSpan backtrackingLimit, out string? error)
    {
        error = null;
        try
        {
            try
            {
                return new Regex(text, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
            }
            catch (NotSupportedException)
            {
                return new Regex(text, RegexOptions.CultureInvariant, backtrackingLimit);
            }
        }
        catch (RegexParseException e)
        {
            // The parser's message repeats the pattern ("Invalid pattern 'P' at offset N. Why."): only why, and where.
            var where = $"at offset {e.Offset}. ";
            var at = e.Message.LastIndexOf(where, StringComparison.Ordinal); // after the quoted pattern
            var why = at < 0 ? e.Message : e.Message[(at + where.Length)..];
            error = $"{why.Split('\n')[0].TrimEnd('.')}, at character {e.Offset}";
            return null;
        }
        catch (ArgumentException e)
        {
            error = e.Message.Split('\n')[0].TrimEnd('.');
            return null;
        }
    }
}
