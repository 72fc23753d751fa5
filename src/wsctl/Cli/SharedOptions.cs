using System.CommandLine;
using WsCore.WebSockets.Tls;

namespace Wsctl.Cli;

/// <summary>
/// The options and arguments several verbs take (--json, --insecure, --pin, --timeout, the target), defined once so
/// each is spelled, parsed and explained alike; a verb adds only what its own use of it means. Every call makes a new
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

    /// <summary><c>--pin SHA256</c>: trust exactly the wss:// certificate with this SHA-256 fingerprint.</summary>
    public static Option<CertificatePin?> Pin() => new("--pin")
    {
        Description = "wss://: trust exactly the certificate with this SHA-256 fingerprint (64 hex digits, colons " +
            "optional; serve --tls-self-signed prints its own), whatever its issuer, name or dates; any other " +
            "certificate fails with exit 8.",
        HelpName = "SHA256",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (CertificatePin.TryParse(text, out var parsed))
                return parsed;
            result.AddError("--pin: expected a SHA-256 fingerprint (64 hex digits, colons allowed), got " +
                Options.Quote(text));
            return null;
        },
    };

    /// <summary><c>--compress</c>: offer permessage-deflate (RFC 7692) to the server.</summary>
    public static Option<bool> Compress() => new("--compress")
    {
        Description = "Offer permessage-deflate (RFC 7692) as browsers do; when the server accepts, messages are " +
            "compressed both ways (inflated never beyond 16 MiB).",
    };

    /// <summary>Refuses <c>--pin</c> beside <c>--insecure</c>: one trusts one certificate, the other any.</summary>
    public static void PinExcludesInsecure(this Command command, Option<CertificatePin?> pin, Option<bool> insecure) =>
        command.Validators.Add(r =>
        {
            if (r.GetResult(pin) is { Implicit: false } && r.GetValue(insecure))
                r.AddError("--pin and --insecure exclude each other: trust one certificate, or any.");
        });

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
