using System.CommandLine;
using WsCore;

namespace Wsctl.Cli;

/// <summary>
/// The one table from WsCore's <see cref="InputField"/>s to the options that set them, and how a
/// <see cref="WsCoreException"/> reads on the command line: its message after the flag of the field at fault
/// ("--ssid: the SSID must be 1-32 bytes"), its hint followed by the option that does what the hint suggests
/// ("… anyway (--force)") or the verb that helps ("… wsctl probe --discover lists …"). WsCore's own texts name no
/// flag.
/// </summary>
public static class InputFlags
{
    /// <summary>How one field is set on the command line.</summary>
    /// <param name="Flag">The option that sets the field, or null where verbs spell it differently (a target).</param>
    /// <param name="Verbs">The verbs whose failures can concern the field; each has the option (a test checks).</param>
    /// <param name="Usage">How a hint's suggestion to change the field is spelled, if more than the flag.</param>
    /// <param name="Hint">
    /// The hint for a failure of this field, where the command line has a better one than WsCore's (another verb to
    /// run); <c>{value}</c> stands for the option's value.
    /// </param>
    public sealed record Row(string? Flag, string[] Verbs, string? Usage = null, string? Hint = null);

    public static readonly IReadOnlyDictionary<InputField, Row> Table = new Dictionary<InputField, Row>
    {
        [InputField.SerialPort] = new("--port", ["flash", "monitor", "device", "provision"], Usage: "--port auto"),
        [InputField.Baud] = new("--baud", ["flash", "monitor", "device", "provision"]),
        [InputField.Chip] = new("--chip", ["flash", "device"], Usage: "--chip auto"),
        [InputField.FlashSize] = new("--flash-size", ["flash", "device"], Usage: "--flash-size SIZE"),
        [InputField.FlashMode] = new("--flash-mode", ["flash"]),
        [InputField.FlashFreq] = new("--flash-freq", ["flash"]),
        [InputField.Firmware] = new("--firmware", ["flash", "monitor", "device", "ota"], Usage: "--firmware DIR"),
        [InputField.Images] = new("--image", ["flash", "device"]),
        [InputField.Force] = new("--force", ["flash", "ota"]),
        [InputField.Ssid] = new("--ssid", ["flash", "provision"]),
        [InputField.Password] = new("--pass", ["flash", "provision"]),
        [InputField.Hostname] = new("--hostname", ["flash"]),
        [InputField.WebSocketPort] = new("--ws-port", ["flash"]),
        [InputField.MaxClients] = new("--max-clients", ["flash"]),
        [InputField.CounterInterval] = new("--counter-interval", ["flash"]),
        [InputField.OtaKey] = new("--ota-key", ["flash", "ota"], Usage: "--ota-key FILE"),
        [InputField.OtaConfirmTimeout] = new("--ota-confirm-timeout", ["flash"]),
        [InputField.OtaConfirmWait] = new("--confirm-timeout", ["ota"], Usage: "--confirm-timeout DURATION"),
        [InputField.NvsImageFile] = new("--nvs-out", ["flash"]),
        [InputField.MergedImageFile] = new("--output", ["flash"]),
        // OFFSET SIZE are arguments: no flag to prefix.
        [InputField.FlashRange] = new(null, ["device"]),
        [InputField.Partition] = new("--partition", ["device"], Usage: "--partition NAME"),
        [InputField.ReadOutputFile] = new("--output", ["device"]),
        [InputField.WebInstallDirectory] = new("--web-install", ["flash"]),
        [InputField.EraseAll] = new("--erase-all", ["flash"]),
        // An argument in send and bench, an option in broadcast: no prefix, but a way to find a target that answers.
        [InputField.Target] = new(null, ["send", "broadcast", "bench", "probe", "ota"],
            Usage: "wsctl probe --discover lists the devices that answer"),
        [InputField.Elf] = new("--elf", ["monitor"], Usage: "--elf FILE"),
        // broadcast --discover browses too, without an --interface of its own: the hint then goes without it.
        [InputField.Interface] = new("--interface", ["probe", "serve"], Usage: "--interface NAME"),
        [InputField.ListenPort] = new("--port", ["serve"]),
        [InputField.ServePort] = new("--port", ["send", "broadcast"],
            Hint: "start one with: wsctl serve --port {value}; or give the port of the running one with --port"),
        [InputField.MessageSize] = new("--size", ["bench"]),
        [InputField.AllowUntrustedCertificate] = new("--insecure", ["send", "broadcast", "probe"]),
        [InputField.CertificatePin] = new("--pin", ["send", "broadcast", "probe"], Usage: "--pin SHA256"),
        [InputField.TlsCertificate] = new("--tls-cert", ["serve"], Usage: "--tls-cert FILE"),
        [InputField.TlsKey] = new("--tls-key", ["serve"], Usage: "--tls-key FILE"),
        [InputField.WaitMessage] = new("--wait-message", ["probe"], Usage: "--wait-message 10s"),
        [InputField.ClusterAddress] = new("--cluster", ["serve"], Usage: "--cluster redis[s]://HOST[:PORT][/DB]"),
        [InputField.ClusterName] = new("--cluster-name", ["serve"]),
        [InputField.ClusterMaxClients] = new("--cluster-max-clients", ["serve"]),
        [InputField.ClusterOptional] = new("--cluster-optional", ["serve"]),
        [InputField.ClusterLease] = new("--cluster-lease", ["serve"]),
        [InputField.ClusterInstance] = new("--cluster-instance", ["serve"]),
    };

    /// <summary>
    /// The message and hint of <paramref name="error"/> as the command line shows them. With
    /// <paramref name="parse"/>, only the options of the verb that ran are named, and <c>{value}</c> is its value.
    /// </summary>
    public static (string Message, string? Hint) Describe(WsCoreException error, ParseResult? parse = null)
    {
        var verb = parse?.CommandResult.Command;
        var message = error.Field is { } field && RowOf(field, verb) is { Flag: { } flag }
            ? $"{flag}: {error.Message}"
            : error.Message;
        var hint = error.Hint;
        if (error.Field is { } concerned && RowOf(concerned, verb) is { Hint: { } own } ownRow)
        {
            // Without the parse (a JSON event), the value is shown as its placeholder: --port as PORT.
            var value = ValueOf(ownRow.Flag, parse) ?? ownRow.Flag?.TrimStart('-').ToUpperInvariant();
            hint = own.Replace("{value}", value, StringComparison.Ordinal);
        }
        else if (error.Hint is { } text && error.HintField is { } suggested && RowOf(suggested, verb) is { } row)
        {
            // An option follows the hint in parentheses; a sentence (the verb that finds targets) follows as one.
            hint = row.Flag is not null ? $"{text} ({row.Usage ?? row.Flag})"
                : $"{text}{(text.EndsWith('?') ? " " : "; ")}{row.Usage}";
        }
        return (message, hint);
    }

    /// <summary>The row of <paramref name="field"/>, unless the verb that ran lacks its option.</summary>
    private static Row? RowOf(InputField field, Command? verb) =>
        Table.TryGetValue(field, out var row)
            && (verb is null || (row.Flag is null ? row.Verbs.Contains(verb.Name) : Has(verb, row.Flag)))
            ? row
            : null;

    /// <summary>
    /// Whether <paramref name="verb"/>, or one of its subverbs (<c>device read</c>), has an option spelled
    /// <paramref name="flag"/>.
    /// </summary>
    public static bool Has(Command verb, string flag) =>
        verb.Options.Any(o => o.Name == flag || o.Aliases.Contains(flag)) || verb.Subcommands.Any(c => Has(c, flag));

    /// <summary>The value of the verb's option <paramref name="flag"/> as given, or its default.</summary>
    private static string? ValueOf(string? flag, ParseResult? parse)
    {
        var option = parse?.CommandResult.Command.Options.FirstOrDefault(o => o.Name == flag);
        return option is null ? null : parse!.GetResult(option)?.GetValueOrDefault<object>()?.ToString();
    }
}
