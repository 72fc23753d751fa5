using System.CommandLine;
using System.Text.RegularExpressions;
using Serilog;
using WsCore.Esp;
using WsCore.Monitor;
using Wsctl.Cli;
using Wsctl.Monitor;

namespace Wsctl.Commands;

/// <summary>
/// <c>wsctl monitor</c>: the board's serial console, line by line, with panics and backtraces decoded from the app's
/// ELF; ends on a matching line, a timeout, a panic or a reboot loop, or Ctrl-].
/// </summary>
public static class MonitorCommand
{
    /// <summary>How long one --until match may take on one line before it counts as no match.</summary>
    private static readonly TimeSpan MatchTimeLimit = TimeSpan.FromMilliseconds(200);

    private static readonly Option<string> PortOption = SerialPortOption.Create();
    private static readonly Option<int> BaudOption = Options.Integer("--baud",
        "The console's baud rate (the firmware's CONFIG_ESP_CONSOLE_UART_BAUDRATE).", 115200, 300, 5_000_000, "N", "-b");
    private static readonly Option<string?> ElfOption = new("--elf")
    {
        Description = "The app's ELF file: panics and backtraces are decoded to functions and source lines.",
        HelpName = "FILE",
    };
    private static readonly Option<string?> FirmwareOption = new("--firmware")
    {
        Description = "An ESP-IDF build directory: its app ELF (project_description.json, flasher_args.json, or the only *.elf) decodes panics.",
        HelpName = "DIR",
    };
    private static readonly Option<bool> NoResetOption = new("--no-reset")
    {
        Description = "Do not reset the board into its app first (socket:// never resets: it has no DTR/RTS).",
    };
    private static readonly Option<string?> UntilOption = new("--until")
    {
        Description = "End with exit 0 at the first line matching this regular expression (.NET syntax).",
        HelpName = "REGEX",
    };
    private static readonly Option<TimeSpan> TimeoutOption = SharedOptions.Timeout(
        "End with exit 6 after this long; 0 waits for ever.", TimeSpan.Zero, zeroWaitsForever: true);
    private static readonly Option<bool> JsonOption = SharedOptions.Json("{\"ts\",\"line\"}, " +
        "{\"ts\",\"decoded\":[…]} after backtraces, and a final {\"result\",\"exitCode\",\"message\"}");

    public static Command Create()
    {
        var command = new Command("monitor", HelpText.Describe(
            "Show an ESP32's serial console: reset the board into its app (an RTS pulse with IO0 high; not with --no-reset " +
            "or over socket://) and print each line as it comes, colours kept on a terminal and stripped in a pipe. With the " +
            "app's ELF, panic reports are decoded: each code address of a backtrace (Xtensa), register dump or stack dump " +
            "(RISC-V) is followed by a line such as '  0x400d1234: app_main at main/main.c:42'. A panic (Guru Meditation, " +
            "abort(), a failed assertion) or 3 resets within the timeout (60 s without one) ends it with exit 12, once the " +
            "report is printed. On a terminal, typed keys go to the board and Ctrl-] ends it; from a pipe, each stdin line is " +
            "sent (with CR LF).",
            [
                "wsctl monitor --firmware build                                  # auto-detected port, decoded panics",
                "wsctl monitor -p /dev/ttyUSB0 --until 'WebSocket server on' --timeout 30s   # wait for the app in a script",
                "wsctl flash --firmware build --ssid MyNet --pass - --monitor < pass.txt       # flash, then watch it boot",
            ],
            ExitCode.Ok, ExitCode.Usage, ExitCode.Timeout, ExitCode.Device, ExitCode.DeviceCrashed, ExitCode.Interrupted))
        {
            PortOption, BaudOption, ElfOption, FirmwareOption, NoResetOption, UntilOption, TimeoutOption, JsonOption,
        };
        UntilOption.Validators.Add(result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (TryParsePattern(text, out var error) is null)
                result.AddError($"--until: expected a regular expression, got {Options.Quote(text)} ({error})");
        });
        command.Validators.Add(result =>
        {
            if (result.GetResult(ElfOption) is not null && result.GetResult(FirmwareOption) is not null)
                result.AddError("--elf: give --elf or --firmware, not both");
        });
        command.SetAction(async (parse, cancel) =>
        {
            // The session ends on Ctrl-C with its JSON result written (see GracefulInterrupt), then exits 130.
            parse.InvocationConfiguration.ProcessTerminationTimeout = null;
            using var interrupt = new GracefulInterrupt(cancel);
            return await VerbRunner.RunAsync(parse, interrupt.Token, (logger, token) =>
                Task.Run(() => Run(parse, logger, token), token));
        });
        return command;
    }

    private static ExitCode Run(ParseResult parse, ILogger logger, CancellationToken cancel)
    {
        var decoder = MonitorSession.LoadDecoder(parse.GetValue(ElfOption), parse.GetValue(FirmwareOption), logger);
        var timeout = parse.GetValue(TimeoutOption);
        var options = new MonitorOptions
        {
            Until = parse.GetValue(UntilOption) is { } until ? TryParsePattern(until, out _) : null,
            Timeout = timeout > TimeSpan.Zero ? timeout : null,
            Decoder = decoder,
            ResetIntoApp = !parse.GetValue(NoResetOption),
        };
        var (transport, _) = SerialPortOption.Open(parse.GetValue(PortOption), parse.GetValue(BaudOption), logger,
            "Reset the board by hand (tap EN) to see it boot");
        using (transport)
            return MonitorSession.Run(transport, options, parse.GetValue(JsonOption), logger, cancel);
    }

    private static Regex? TryParsePattern(string text, out string? error)
    {
        try
        {
            error = null;
            return new Regex(text, RegexOptions.CultureInvariant, MatchTimeLimit);
        }
        catch (ArgumentException e)
        {
            error = e.Message.Split('\n')[0].TrimEnd('.');
            return null;
        }
    }
}
