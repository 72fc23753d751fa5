using System.Globalization;

namespace Wsctl.Cli;

/// <summary>
/// Durations as users type them: <c>500ms</c>, <c>5s</c>, <c>1m</c>, <c>2h</c>, or <c>0</c>. A number without a unit
/// (other than 0) is refused: "5" could be seconds or milliseconds, and a script that meant one gets the other.
/// </summary>
public static class Duration
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        text = text.Trim();
        if (text == "0")
            return true;
        var unitStart = 0;
        while (unitStart < text.Length && (char.IsAsciiDigit(text[unitStart]) || text[unitStart] == '.'))
            unitStart++;
        if (unitStart == 0
            || !double.TryParse(
                text.AsSpan(0, unitStart),
                NumberStyles.AllowDecimalPoint,
                CultureInfo.InvariantCulture,
                out var number))
            return false;
        double? ms = text[unitStart..].ToLowerInvariant() switch
        {
            "ms" => number,
            "s" => number * 1000,
            "m" or "min" => number * 60_000,
            "h" => number * 3_600_000,
            _ => null,
        };
        if (ms is null || ms > int.MaxValue)
            return false;
        value = TimeSpan.FromMilliseconds(ms.Value);
        return true;
    }

    public static string Format(TimeSpan value) =>
        value.TotalMilliseconds % 1000 != 0 ? $"{value.TotalMilliseconds:0}ms"
        : value.TotalSeconds % 60 != 0 || value == TimeSpan.Zero ? $"{value.TotalSeconds:0}s"
        : $"{value.TotalMinutes:0}m";
}
