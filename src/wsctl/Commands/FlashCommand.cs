using System.CommandLine;
using System.Runtime.CompilerServices;
using Serilog;
using WsCore;
using WsCore.Esp;
using WsCore.Flashing;
using WsCore.Monitor;
using WsCore.Nvs;
using Wsctl.Cli;
using Wsctl.Flash;
using Wsctl.Monitor;

namespace Wsctl.Commands;

/// <summary>
/// <c>wsctl flash</c>: writes Wi-Fi credentials (an NVS partition) and optionally firmware to an ESP32 through its
/// ROM bootloader, or just produces the images (<c>--nvs-out</c>, <c>--output</c>, <c>--dry-run</c>).
/// </summary>
public static class FlashCommand
{
    /// <summary>The environment variable that may hold the Wi-Fi password.</summary>
    public const string PasswordVariable = "WSCTL_WIFI_PASS";

    private static readonly Option<string> PortOption = SerialPortOption.Create();
    private static readonly Option<int?> BaudOption = Options.OptionalInteger("--baud",
        "Switch to this baud rate after connecting (default: stay at 115200).", 9600, 5_000_000, "N", "-b");
    private static readonly Option<string> BeforeOption = new Option<string>("--before")
    {
        Description = "Reset into the bootloader first (default-reset) or not (no-reset).",
        HelpName = "default-reset|no-reset",
        DefaultValueFactory = _ => "default-reset",
    }.OnlyFrom("default-reset", "no-reset", "default_reset", "no_reset");
    private static readonly Option<string?> AfterOption = new Option<string?>("--after")
    {
        Description = "Reset the board when done (hard-reset, the default) or leave it in the bootloader (no-reset).",
        HelpName = "hard-reset|no-reset",
    }.OnlyFrom("hard-reset", "no-reset", "hard_reset", "no_reset");
    private static readonly Option<string> ChipOption = new Option<string>("--chip")
    {
        Description = "The chip to expect: esp32, esp32s2, esp32s3, esp32c3, or auto to detect it.",
        DefaultValueFactory = _ => "auto",
    }.OnlyFrom("auto", "esp32", "esp32s2", "esp32s3", "esp32c3");
    private static readonly Option<string?> FlashSizeOption = new("--flash-size")
    {
        Description = "Flash size (1MB, 2MB, 4MB, 8MB, 16MB), detect (read the flash chip's JEDEC ID once connected), or keep. " +
            "Default: the build's setting, else keep (4MB assumed for checks).",
        HelpName = "SIZE",
    };
    private static readonly Option<string?> FlashModeOption = new("--flash-mode")
    {
        Description = "Flash mode patched into the bootloader: qio, qout, dio, dout or keep. Default: the build's setting, else keep.",
        HelpName = "MODE",
    };
    private static readonly Option<string?> FlashFreqOption = new("--flash-freq")
    {
        Description = "Flash frequency patched into the bootloader: 80m, 40m, 26m, 20m or keep. Default: the build's setting, else keep.",
        HelpName = "FREQ",
    };
    private static readonly Option<string?> FirmwareOption = new("--firmware")
    {
        Description = "An ESP-IDF build directory (reads flasher_args.json) or an app .bin (written at 0x10000).",
        HelpName = "DIR|FILE",
    };
    private static readonly Option<string[]> ImageOption = new("--image")
    {
        Description = "Write FILE at OFFSET (repeatable), e.g. --image 0x10000=app.bin.",
        HelpName = "OFFSET=FILE",
    };
    private static readonly Option<string?> SsidOption = new("--ssid")
    {
        Description = $"Wi-Fi network name (1-{DeviceSettings.SsidMaxBytes} bytes). With it, the NVS partition with the settings below is written.",
    };
    private static readonly Option<string?> PassOption = new("--pass")
    {
        Description = $"Wi-Fi password ({DeviceSettings.PassphraseMinLength}-{DeviceSettings.PassphraseMaxLength} characters, " +
            $"{DeviceSettings.PskHexLength} hex digits, or \"\" for an open network). '-' reads it from stdin; " +
            $"{PasswordVariable} is used when --pass is absent. A value given here is visible in process listings.",
        HelpName = "PASSWORD|-",
    };
    private static readonly Option<string> HostnameOption = new("--hostname")
    {
        Description = $"The device's host name (mDNS): 1-{DeviceSettings.HostnameMaxLength} letters, digits and '-'.",
        DefaultValueFactory = _ => DeviceSettings.DefaultHostname,
    };
    private static readonly Option<int> WsPortOption = Options.Integer("--ws-port", "The device's WebSocket port.",
        DeviceSettings.DefaultWebSocketPort, DeviceSettings.MinWebSocketPort, DeviceSettings.MaxWebSocketPort, "PORT");
    private static readonly Option<int> MaxClientsOption = Options.Integer("--max-clients",
        $"Simultaneous WebSocket clients the device accepts ({DeviceSettings.MinClients}-{DeviceSettings.MaxClientsLimit}).",
        DeviceSettings.DefaultMaxClients, DeviceSettings.MinClients, DeviceSettings.MaxClientsLimit);
    private static readonly Option<string?> NvsOutOption = new("--nvs-out")
    {
        Description = "Write the NVS partition image to FILE (mode 0600) instead of flashing.",
        HelpName = "FILE",
    };
    private static readonly Option<string?> OutputOption = new("--output", "-o")
    {
        Description = "Write one merged flash image of every region (0xFF between them, mode 0600) instead of flashing.",
        HelpName = "FILE",
    };
    private static readonly Option<bool> DryRunOption = new("--dry-run")
    {
        Description = "Print the plan (regions, offsets, sizes, MD5s) and touch no device.",
    };
    private static readonly Option<bool> JsonOption =
        SharedOptions.Json("each event (progress, verified, done, error), for wrappers");
    private static readonly Option<bool> ForceOption = new("--force")
    {
        Description = "Write the bootloader and app even when their image header is damaged or names another chip.",
    };
    private static readonly Option<bool> MonitorOption = new("--monitor")
    {
        Description = "After the hard reset, show the board's console as wsctl monitor does (panics decoded with the app ELF of --firmware DIR).",
    };

    public static Command Create()
    {
        var command = new Command("flash",
            "Write Wi-Fi credentials and firmware to an ESP32 over its ROM bootloader.\n\n" +
            "Examples:\n" +
            "  wsctl flash --ssid MyNet --pass - < wifi-pass.txt           # credentials only, auto-detected port\n" +
            "  wsctl flash -p /dev/ttyUSB0 --firmware build --ssid MyNet --baud 460800\n" +
            "  wsctl flash --ssid MyNet --nvs-out nvs.bin                  # just the NVS image, no device\n" +
            "  wsctl flash --firmware build --monitor                      # then watch it boot (Ctrl-] ends)\n\n" +
            "The NVS partition (namespace wsctl: ssid, pass, hostname, port, max_clients) goes where the firmware's\n" +
            "partition table puts it, else at 0x9000 (0x6000 bytes). The password never appears in any output.\n\n" +
            "With --monitor the exit code is the monitor's once flashing succeeded (12 when the new firmware panics).\n\n" +
            ExitCodes.Describe(ExitCode.Ok, ExitCode.Usage, ExitCode.Device, ExitCode.VerificationFailed, ExitCode.DeviceCrashed,
                ExitCode.Interrupted));
        foreach (var option in new Option[]
                 {
                     PortOption, BaudOption, BeforeOption, AfterOption, ChipOption, FlashSizeOption, FlashModeOption,
                     FlashFreqOption, FirmwareOption, ImageOption, SsidOption, PassOption, HostnameOption, WsPortOption,
                     MaxClientsOption, NvsOutOption, OutputOption, DryRunOption, JsonOption, ForceOption, MonitorOption,
                 })
            command.Options.Add(option);
        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, (logger, ct) => RunAsync(parse, logger, ct)));
        return command;
    }

    private static async Task<ExitCode> RunAsync(ParseResult parse, ILogger logger, CancellationToken cancel)
    {
        var json = parse.GetValue(JsonOption);
        // Once the monitor runs, it reports its own end (its JSON "result"); flash's "error" event is for flashing.
        var monitoring = new StrongBox<bool>();
        try
        {
            return await Task.Run(() => Run(parse, logger, json, monitoring, cancel), cancel);
        }
        catch (WsCoreException e) when (json && !monitoring.Value)
        {
            var (message, hint) = InputFlags.Describe(e, parse);
            JsonFlashRenderer.Write(Console.OpenStandardOutput(), w =>
            {
                w.WriteString("event", "error");
                w.WriteNumber("exitCode", (int)ExitCodes.From(e.Kind));
                w.WriteString("message", message);
                if (hint is not null)
                    w.WriteString("hint", hint);
            });
            throw;
        }
    }

    private static ExitCode Run(ParseResult parse, ILogger logger, bool json, StrongBox<bool> monitoring, CancellationToken cancel)
    {
        // 1. Everything is checked before any file is written or any port opened.
        var settings = ReadSettings(parse);
        var images = new List<(uint, string)>();
        foreach (var spec in parse.GetValue(ImageOption) ?? [])
        {
            var eq = spec.IndexOf('=');
            var offset = eq > 0 ? FlasherArgs.ParseOffset(spec[..eq]) : null;
            if (offset is null || eq == spec.Length - 1)
                throw Invalid("--image", $"'{spec}' is not OFFSET=FILE (e.g. 0x10000=app.bin)");
            images.Add((offset.Value, spec[(eq + 1)..]));
        }
        var firmware = parse.GetValue(FirmwareOption);
        if (settings is null && firmware is null && images.Count == 0)
            throw Invalid("--ssid", "nothing to write: give --ssid/--pass, --firmware or --image");
        var baud = parse.GetValue(BaudOption);
        if (baud is { } b && b is < 9600 or > 5_000_000)
            throw Invalid("--baud", $"{b} is not a usable baud rate (9600-5000000)");
        var expectedChip = parse.GetValue(ChipOption) is { } chipId and not "auto" ? Chips.ById(chipId) : null;
        var plan = FlashPlanner.Create(new FlashRequest
        {
            Chip = expectedChip ?? Chips.Esp32,
            Firmware = firmware,
            Images = images,
            Settings = settings,
            FlashMode = parse.GetValue(FlashModeOption),
            FlashSize = parse.GetValue(FlashSizeOption),
            FlashFreq = parse.GetValue(FlashFreqOption),
            Force = parse.GetValue(ForceOption),
        });
        if (plan.Chip is { } buildChip && Chips.ById(buildChip) is null)
            throw Invalid("--firmware", $"the build is for {buildChip}, which wsctl flash does not know (esp32, esp32s2, esp32s3, esp32c3)");
        if (plan.Chip is { } forChip && expectedChip is not null && !string.Equals(forChip, expectedChip.Id, StringComparison.OrdinalIgnoreCase))
            throw Invalid("--chip", $"the build is for {forChip}, not {expectedChip.Id}");
        var nvsOut = parse.GetValue(NvsOutOption);
        if (nvsOut is not null && settings is null)
            throw Invalid("--nvs-out", "needs --ssid (and --pass) to have something to write");
        var output = parse.GetValue(OutputOption);
        var dryRun = parse.GetValue(DryRunOption);
        var monitor = parse.GetValue(MonitorOption);
        if (monitor && (dryRun || nvsOut is not null || output is not null))
            throw Invalid("--monitor", "needs a board: it cannot go with --dry-run, --nvs-out or --output");
        if (monitor && Normalise(parse.GetValue(AfterOption)) == "no-reset")
            throw Invalid("--monitor", "the board must boot the new firmware: leave --after at hard-reset");
        // The ELF is read before the device is touched (a large one takes a moment, which must not fall between the
        // reset and the first boot line); a build without a usable one is monitored undecoded, with a warning.
        var decoder = monitor && firmware is not null && Directory.Exists(firmware) ? LoadDecoderOrWarn(firmware, logger) : null;

        // 2. Offline outputs: no device.
        if (dryRun || nvsOut is not null || output is not null)
        {
            if (nvsOut is not null)
                WritePrivateFile(nvsOut, plan.Regions.Single(r => r.Name == "nvs").Data, "--nvs-out");
            if (output is not null)
                WritePrivateFile(output, plan.Merge(), "--output");
            PrintPlan(plan, json, nvsOut, output);
            return ExitCode.Ok;
        }

        // 3. The device.
        var before = Normalise(parse.GetValue(BeforeOption)) == "no-reset" ? BeforeReset.NoReset : BeforeReset.DefaultReset;
        var afterText = Normalise(parse.GetValue(AfterOption) ?? plan.After ?? "hard-reset");
        var after = afterText == "no-reset" && !monitor ? AfterReset.NoReset : AfterReset.HardReset;
        var (transport, usbJtag) = SerialPortOption.Open(parse.GetValue(PortOption), 115200, logger);
        using (transport)
        {
            if (transport is TcpSerialTransport && before != BeforeReset.NoReset)
            {
                logger.Debug("socket:// has no DTR/RTS lines: not resetting (as esptool)");
                before = BeforeReset.NoReset;
            }
            IFlashObserver observer = json ? new JsonFlashRenderer(Console.OpenStandardOutput())
                : Console.IsOutputRedirected ? new PlainFlashRenderer(Console.Out)
                : new TerminalFlashRenderer(Console.Out);
            var flasher = new EspFlasher(transport, new FlashSessionOptions
            {
                Before = before,
                After = after,
                Baud = baud,
                FlashSize = plan.DetectFlashSize ? null : plan.FlashSizeBytes,
                UsbJtagSerial = usbJtag,
                ExpectedChip = expectedChip,
                Force = parse.GetValue(ForceOption),
            }, logger, observer);
            flasher.FlashAll(plan.Regions, cancel);
            logger.Debug("{Bytes} bytes sent on the line", flasher.BytesSent);
            if (monitor)
            {
                // The hard reset has started the new firmware; its console runs at 115200 whatever --baud flashed at.
                transport.SetBaudRate(115200);
                monitoring.Value = true;
                return MonitorSession.Run(transport, new MonitorOptions { Decoder = decoder, ResetIntoApp = false }, json, logger, cancel);
            }
        }
        return ExitCode.Ok;
    }

    private static ElfSymbolizer? LoadDecoderOrWarn(string buildDir, ILogger logger)
    {
        try
        {
            return MonitorSession.LoadDecoder(null, buildDir, logger);
        }
        catch (WsCoreException e) when (e.Kind == FailureKind.InvalidInput)
        {
            logger.Warning("--monitor: {Reason}; panics will not be decoded", e.Message);
            return null;
        }
    }

    private static DeviceSettings? ReadSettings(ParseResult parse)
    {
        var ssid = parse.GetValue(SsidOption);
        var passText = parse.GetValue(PassOption);
        var password = passText == "-" ? (Console.In.ReadLine() ?? "").TrimEnd('\r', '\n')
            : passText ?? Environment.GetEnvironmentVariable(PasswordVariable);
        if (ssid is null)
        {
            if (passText is not null)
                throw Invalid("--ssid", "--pass needs --ssid");
            return null;
        }
        if (password is null)
            throw Invalid("--pass", $"give the password with --pass (or '-' to read it from stdin, or {PasswordVariable}); use --pass \"\" for an open network");
        var settings = new DeviceSettings(ssid, password, parse.GetValue(HostnameOption) ?? DeviceSettings.DefaultHostname,
            parse.GetValue(WsPortOption), parse.GetValue(MaxClientsOption));
        settings.Validate();
        return settings;
    }

    private static void PrintPlan(FlashPlan plan, bool json, string? nvsOut, string? output)
    {
        if (json)
        {
            var stdout = Console.OpenStandardOutput();
            foreach (var region in plan.Regions)
                JsonFlashRenderer.Write(stdout, w =>
                {
                    w.WriteString("event", "plan");
                    w.WriteString("region", region.Name);
                    w.WriteNumber("offset", region.Offset);
                    w.WriteNumber("size", region.Data.Length);
                    w.WriteString("md5", region.ShownMd5(FlashPlan.Md5Of(region)));
                });
            JsonFlashRenderer.Write(stdout, w =>
            {
                w.WriteString("event", "done");
                if (nvsOut is not null)
                    w.WriteString("nvsOut", nvsOut);
                if (output is not null)
                    w.WriteString("output", output);
            });
            return;
        }
        Console.WriteLine($"{"region",-24} {"offset",-10} {"size",10}  md5");
        foreach (var region in plan.Regions)
            Console.WriteLine($"{region.Name,-24} 0x{region.Offset:X8} {region.Data.Length,10}  {region.ShownMd5(FlashPlan.Md5Of(region))}");
        if (nvsOut is not null)
            Console.WriteLine($"Wrote the NVS image to {nvsOut}");
        if (output is not null)
            Console.WriteLine($"Wrote the merged image to {output}");
    }

    /// <summary>
    /// Writes <paramref name="data"/> to <paramref name="path"/> with mode 0600 from the start (no window where others
    /// could read the password): a new file created with UnixCreateMode in the same folder, then renamed over the
    /// target. A device such as /dev/stdout is written in place, never replaced.
    /// </summary>
    private static void WritePrivateFile(string path, byte[] data, string field)
    {
        var full = Path.GetFullPath(path);
        var resolved = File.Exists(full) ? new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full : full;
        if (resolved.StartsWith("/dev/", StringComparison.Ordinal) || resolved.StartsWith("/proc/", StringComparison.Ordinal))
        {
            using var device = new FileStream(full, FileMode.Open, FileAccess.Write);
            device.Write(data);
            return;
        }
        if (Directory.Exists(full))
            throw new WsCoreException(FailureKind.InvalidInput, $"{field}: {path} is a directory");
        if (Path.GetDirectoryName(full) is { } parent && !Directory.Exists(parent))
            throw new WsCoreException(FailureKind.InvalidInput, $"{field}: the directory {parent} does not exist", $"create it first: mkdir -p {parent}");
        var temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new FileStream(temp, options))
                file.Write(data);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing was created, or it cannot be removed either: the error below is the one to report.
            }
            throw new WsCoreException(FailureKind.InvalidInput, $"{field}: cannot write {path} ({e.Message})");
        }
    }

    private static string Normalise(string? value) => (value ?? "").Replace('_', '-');

    private static WsCoreException Invalid(string field, string message) => new(FailureKind.InvalidInput, $"{field}: {message}");
}
