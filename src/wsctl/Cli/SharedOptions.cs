using System.CommandLine;

namespace Wsctl.Cli;

/// <summary>
/// The options and arguments several verbs take (--json, --insecure, --timeout, the target), defined once so each is
/// spelled, parsed and explained alike; a verb adds only what its own use of it means. Every call makes a new
/// instance: an option belongs to one command.
/// </summary>
public static class SharedOptions
{
    /// <summary>The forms of a WebSocket target every verb that connects accepts.</summary>
    public const string TargetForms = "ws://HOST[:PORT][/PATH], wss://…, or HOST[:PORT] (ws, port 8080, path /)";

    /// <summary>The same without wss:// (bench measures the server, not TLS).</summary>
    public const string PlainTargetForms = "ws://HOST[:PORT][/PATH] or HOST[:PORT] (port 8080, path /)";

    /// <summary><c>--json</c>: what the verb prints, as JSON lines on stdout (one object per line).</summary>
    /// <param name="what">What the objects are, e.g. "every event (open, text, binary, close)".</param>
    public static Option<bool> Json(string what) => new("--json")
    {
        Description = $"Print JSON lines: {what}.",
    };

    /// <summary><c>--insecure/-k</c>: accept a wss:// server's certificate without validating it.</summary>
    public static Option<bool> Insecure() => new("--insecure", "-k")
    {
        Description = "wss://: accept any certificate (a device's self-signed one).",
    };

    /// <summary><c>--timeout</c>: a duration; what it limits is the verb's (each step, each target, the run).</summary>
    /// <param name="limits">What the limit applies to, as a sentence.</param>
    /// <param name="defaultValue">The limit when the option is absent.</param>
    /// <param name="zeroWaitsForever">Whether 0 is accepted (no limit) rather than refused.</param>
    public static Option<TimeSpan> Timeout(string limits, TimeSpan defaultValue, bool zeroWaitsForever = false) =>
        Options.Duration("--timeout", limits, defaultValue,
            minimum: zeroWaitsForever ? TimeSpan.Zero : TimeSpan.FromMilliseconds(1));

    /// <summary>The TARGET argument: a WebSocket server or device.</summary>
    /// <param name="more">What the verb adds about it, as a sentence, or null.</param>
    /// <param name="optional">Whether it may be left out (the verb has another way to name what to talk to).</param>
    /// <param name="tls">Whether wss:// is accepted.</param>
    public static Argument<string?> Target(string? more = null, bool optional = false, bool tls = true) => new("TARGET")
    {
        Description = (tls ? TargetForms : PlainTargetForms) + (more is null ? "." : ". " + more),
        Arity = optional ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
    };
}
