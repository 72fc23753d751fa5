using System.CommandLine;
using WsCore.Chips;
using WsCore.Esp;

namespace Wsctl.Cli;

/// <summary>How a verb reaches a chip's ROM loader, as given on the command line.</summary>
/// <param name="Port">A serial device, socket://HOST:PORT, or auto.</param>
/// <param name="Baud">
/// The rate to switch to once connected, or null to stay at 115200: --baud, else 460800 on a serial port (a TCP serial
/// server's line has a rate of its own, which a change on the chip alone would break).
/// </param>
/// <param name="Before">The reset into the loader.</param>
/// <param name="After">The reset when done; null when not given (the verb's default).</param>
/// <param name="Chip">The chip to expect; null detects it.</param>
public sealed record LoaderSettings(
    string Port, int? Baud, BeforeReset Before, AfterReset? After, ChipDescriptor? Chip);

/// <summary>
/// The options of every verb that talks to a chip's ROM loader (<c>flash</c> and each <c>device</c> subverb):
/// --port, --baud, --before, --after and --chip, spelled, parsed and explained alike. Every call makes new
/// instances: an option belongs to one command.
/// </summary>
public sealed class LoaderOptions
{
    private readonly Option<string> _port = SerialPortOption.Create();

    private readonly Option<int?> _baud = Options.OptionalInteger("--baud",
        "Switch to this baud rate after connecting (default: 460800 on a serial port, 115200 on socket://); " +
        "where the adapter or the cable cannot hold it, wsctl goes back to 115200 and says so.",
        9600, 5_000_000, "N", "-b");

    private readonly Option<string> _before = new Option<string>("--before")
    {
        Description = "Reset into the bootloader first (default-reset) or not (no-reset).",
        HelpName = "default-reset|no-reset",
        DefaultValueFactory = _ => "default-reset",
    }.OnlyFrom("default-reset", "no-reset", "default_reset", "no_reset");

    private readonly Option<string?> _after = new Option<string?>("--after")
    {
        Description = "Reset the board when done (hard-reset, the default) or leave it in the bootloader " +
            "(no-reset).",
        HelpName = "hard-reset|no-reset",
    }.OnlyFrom("hard-reset", "no-reset", "hard_reset", "no_reset");

    private readonly Option<string> _chip = new Option<string>("--chip")
    {
        Description = "The chip to expect: esp32, esp32s2, esp32s3, esp32c3, or auto to detect it.",
        DefaultValueFactory = _ => "auto",
    }.OnlyFrom("auto", "esp32", "esp32s2", "esp32s3", "esp32c3");

    /// <summary>The options, in the order help lists them.</summary>
    public IEnumerable<Option> All => [_port, _baud, _before, _after, _chip];

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in All)
            command.Options.Add(option);
    }

    /// <summary>The options' values in <paramref name="parse"/>.</summary>
    public LoaderSettings Read(ParseResult parse)
    {
        var port = parse.GetValue(_port) ?? "auto";
        var overTcp = port.StartsWith("socket://", StringComparison.OrdinalIgnoreCase);
        return new LoaderSettings(
            port,
            parse.GetValue(_baud) ?? (overTcp ? null : LoaderConnector.FastBaudRate),
            ResetNames.ParseBefore(parse.GetValue(_before)) ?? BeforeReset.DefaultReset,
            ResetNames.ParseAfter(parse.GetValue(_after)),
            parse.GetValue(_chip) is { } id and not "auto" ? KnownChips.ById(id) : null);
    }
}
