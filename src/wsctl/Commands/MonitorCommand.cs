using System.CommandLine;
using Wsctl.Cli;
using Wsctl.Monitor;

namespace Wsctl.Commands;

/// <summary>
/// <c>wsctl monitor</c>: the board's serial console, line by line, with panics and backtraces decoded from the app's
/// ELF; ends on a matching line, a timeout, a panic or a reboot loop, or Ctrl-].
/// </summary>
public static class MonitorCommand
{
    /// <summary>
    /// How long one --until match may take on one line before it counts as no match: only patterns the linear engine
    /// cannot run (<see cref="UserPattern"/>) can take long.
    /// </summary>
    private static readonly TimeSpan MatchTimeLimit = TimeSpan.FromMilliseconds(200);

    public static Command Create()
    {
        var port = SerialPortOption.Create();
        var baud = Options.Integer("--baud",
            "The console's baud rate (the firmware's CONFIG_ESP_CONSOLE_UART_BAUDRATE).",
            115200, 300, 5_000_000, "N", "-b");
        var elf = new Option<string?>("--elf")
        {
            Description = "The app's ELF file: panics and backtraces are decoded to functions and source lines.",
            HelpName = "FILE",
        };
        var firmware = new Option<string?>("--firmware")
        {
            Description = "An ESP-IDF build directory: its app ELF (project_description.json, flasher_args.json, " +
                "or the only *.elf) decodes panics.",
            HelpName = "DIR",
        };
        var noReset = new Option<bool>("--no-reset")
        {
            Description = "Do not reset the board into its app first (socket:// never resets: it has no DTR/RTS).",
        };
        var until = new Option<string?>("--until")
        {
            Description = "End with exit 0 at the first line matching this regular expression (.NET syntax).",
            HelpName = "REGEX",
        };
        var timeout = SharedOptions.Timeout("End with exit 6 after this long; 0 waits for ever.", TimeSpan.Zero,
            zeroWaitsForever: true);
        var json = SharedOptions.Json("{\"ts\",\"line\"}, {\"ts\",\"decoded\":[…]} after backtraces, and a final " +
            "{\"result\",\"exitCode\",\"message\"}");

        var command = new Command("monitor", HelpText.Describe(
            "Show an ESP32's serial console: reset the board into its app (an RTS pulse with IO0 high; not with " +
            "--no-reset or over socket://) and print each line as it comes, colours kept on a terminal and stripped " +
            "in a pipe. With the app's ELF, panic reports are decoded: each code address of a backtrace (Xtensa), " +
            "register dump or stack dump (RISC-V) is followed by a line such as '  0x400d1234: app_main at " +
            "main/main.c:42'. A panic (Guru Meditation, abort(), a failed assertion) or 3 resets within the timeout " +
            "(60 s without one) ends it with exit 12, once the report is printed. On a terminal, typed keys go to " +
            "the board and Ctrl-] ends it; from a pipe, each stdin line is sent (with CR LF).",
            [
                "wsctl monitor --firmware build                                  # auto-detected port, decoded panics",
                "wsctl monitor -p /dev/ttyUSB0 --until 'WebSocket server on' --timeout 30s   " +
                    "# wait for the app in a script",
                "wsctl flash --firmware build --ssid MyNet --pass - --monitor < pass.txt       " +
                    "# flash, then watch it boot",
            ],
            ExitCode.Ok, ExitCode.Usage, ExitCode.Timeout, ExitCode.Device, ExitCode.DeviceCrashed,
            ExitCode.Interrupted))
        {
            port, baud, elf, firmware, noReset, until, timeout, json,
        };
        until.Validators.Add(result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (UserPattern.TryParse(text, MatchTimeLimit, out var error) is null)
                result.AddError($"--until: expected a regular expression, got {Options.Quote(text)} ({error})");
        });
        command.Validators.Add(result =>
        {
            if (result.GetResult(elf) is not null && result.GetResult(firmware) is not null)
                result.AddError("--elf: give --elf or --firmware, not both");
        });
        command.SetAction((parse, cancel) =>
        {
            // The session ends on Ctrl-C with its JSON result written (VerbRunner's interrupt), then exits 130.
            var settings = new MonitorSettings(
                parse.GetValue(port) ?? "auto",
                parse.GetValue(baud),
                parse.GetValue(elf),
                parse.GetValue(firmware),
                ResetIntoApp: !parse.GetValue(noReset),
                Until: parse.GetValue(until) is { } pattern
                    ? UserPattern.TryParse(pattern, MatchTimeLimit, out _)
                    : null,
                Timeout: parse.GetValue(timeout) is var limit && limit > TimeSpan.Zero ? limit : null,
                Json: parse.GetValue(json));
            return VerbRunner.RunAsync(parse, cancel, (logger, token) =>
                Task.Run(() => MonitorSession.Run(settings, logger, token), token));
        });
        return command;
    }
}
