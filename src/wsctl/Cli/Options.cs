using System.CommandLine;

namespace Wsctl.Cli;

/// <summary>Option builders shared by the verbs, so each kind of value is parsed and explained one way.</summary>
public static class Options
{
    /// <summary>A duration option accepting <c>500ms</c>, <c>5s</c>, <c>1m</c>.</summary>
    public static Option<TimeSpan> Duration(string name, string description, TimeSpan defaultValue, params string[] aliases)
    {
        return new Option<TimeSpan>(name, aliases)
        {
            Description = description,
            HelpName = "DURATION",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (Cli.Duration.TryParse(text, out var value))
                    return value;
                result.AddError($"{name}: '{text}' is not a duration (examples: 500ms, 5s, 1m).");
                return defaultValue;
            },
        };
    }

    /// <summary>A TCP port option, 1..65535 (0 too, when <paramref name="allowZero"/>: the OS picks one).</summary>
    public static Option<int> Port(string description, int defaultValue, bool allowZero = false, params string[] aliases)
    {
        var option = new Option<int>("--port", aliases)
        {
            Description = description,
            HelpName = "PORT",
            DefaultValueFactory = _ => defaultValue,
        };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value < (allowZero ? 0 : 1) || value > 65535)
                result.AddError($"--port: {value} is not a TCP port (1-65535{(allowZero ? ", or 0 for any free port" : "")}).");
        });
        return option;
    }
}
