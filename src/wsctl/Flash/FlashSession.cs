using System.Runtime.CompilerServices;
using Serilog;
using WsCore;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.FlashFiles;
using WsCore.Flashing;
using WsCore.Monitor;
using WsCore.Nvs;
using Wsctl.Cli;
using Wsctl.Monitor;

namespace Wsctl.Flash;

/// <summary>What <c>wsctl flash</c> was asked to do, as given: nothing is read or checked yet.</summary>
public sealed record FlashSettings
{
    /// <summary>
    /// How to reach the loader; its reset after flashing, when null, is the build's, else a hard reset.
    /// </summary>
    public LoaderSettings Loader { get; init; } = new("auto", null, BeforeReset.DefaultReset, null, null);
    public string? FlashSize { get; init; }
    public string? FlashMode { get; init; }
    public string? FlashFreq { get; init; }
    public string? Firmware { get; init; }
    /// <summary>OFFSET=FILE specs, as typed.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];
    public string? Ssid { get; init; }
    /// <summary>The password: '-' reads stdin, null takes <see cref="FlashSession.PasswordVariable"/>.</summary>
    public string? Password { get; init; }
    public string Hostname { get; init; } = DeviceSettings.DefaultHostname;
    public int WebSocketPort { get; init; } = DeviceSettings.DefaultWebSocketPort;
    public int MaxClients { get; init; } = DeviceSettings.DefaultMaxClients;
    /// <summary>Echo mode for the NVS image; null: the key is not written.</summary>
    public bool? DeviceEcho { get; init; }
    /// <summary>The counter interval for the NVS image (zero: no counter); null: the key is not written.</summary>
    public TimeSpan? CounterInterval { get; init; }
    /// <summary>Erase the whole flash before writing.</summary>
    public bool EraseAll { get; init; }
    /// <summary>The folder to write an ESP Web Tools install to instead of flashing, or null.</summary>
    public string? WebInstall { get; init; }
    /// <summary>Where the install page loads the component from.</summary>
    public string WebInstallScript { get; init; } = WsCore.Flashing.WebInstall.DefaultScript;
    /// <summary>The file holding the OTA key (made with a new key when absent); null: no key is written.</summary>
    public string? OtaKeyFile { get; init; }
    /// <summary>The OTA confirmation deadline for the NVS image; null: the key is not written.</summary>
    public TimeSpan? OtaConfirmTimeout { get; init; }
    public string? NvsOut { get; init; }
    public string? Output { get; init; }
    public bool DryRun { get; init; }
    public bool Json { get; init; }
    public bool Force { get; init; }
    public bool Monitor { get; init; }
}

/// <summary>
/// Runs <c>wsctl flash</c>: checks everything before any file is written or any port opened, then writes the
/// offline outputs (plan, NVS image, merged image) or flashes the board, and with --monitor watches it boot.
/// </summary>
public static class FlashSession
{
    /// <summary>The environment variable that may hold the Wi-Fi password.</summary>
    public const string PasswordVariable = "WSCTL_WIFI_PASS";

    public static async Task<ExitCode> RunAsync(FlashSettings settings, ILogger logger, CancellationToken cancel)
    {
        // A failure is the JSON result VerbRunner writes; with --monitor, the monitor writes its own.
        return await Task.Run(() => Run(settings, logger, cancel), cancel);
    }

    private static ExitCode Run(FlashSettings settings, ILogger logger, CancellationToken cancel)
    {
        // 1. Everything is checked before any file is written or any port opened.
        var device = ReadDeviceSettings(settings, logger, cancel);
        var images = settings.Images.Select(ParseImage).ToList();
        if (device is null && settings.Firmware is null && images.Count == 0)
            throw WsCoreException.Invalid(InputField.Ssid,
                "nothing to write: give --ssid/--pass, --firmware or --image");
        if (settings.Loader.Baud is { } b && b is < 9600 or > 5_000_000)
            throw WsCoreException.Invalid(InputField.Baud, $"{b} is not a usable baud rate (9600-5000000)");
        var expectedChip = settings.Loader.Chip;
        var plan = FlashFileLoader.Plan(new FlashRequest
        {
            Chip = expectedChip ?? KnownChips.Esp32,
            Firmware = settings.Firmware,
            Images = images,
            Settings = device,
            FlashMode = settings.FlashMode,
            FlashSize = settings.FlashSize,
            FlashFreq = settings.FlashFreq,
            Force = settings.Force,
        });
        if (plan.Chip is { } buildChip && KnownChips.ById(buildChip) is null)
            throw WsCoreException.Invalid(InputField.Firmware,
                $"the build is for {buildChip}, which wsctl flash does not know (esp32, esp32s2, esp32s3, esp32c3)");
        if (plan.Chip is { } forChip && expectedChip is not null
            && !string.Equals(forChip, expectedChip.Id, StringComparison.OrdinalIgnoreCase))
            throw WsCoreException.Invalid(InputField.Chip, $"the build is for {forChip}, not {expectedChip.Id}");
        if (settings.NvsOut is not null && device is null)
            throw WsCoreException.Invalid(InputField.NvsImageFile,
                "needs --ssid (and --pass) to have something to write");
        if (settings.WebInstall is not null)
            CheckWebInstall(settings, device, plan);
        var offline = settings.DryRun || settings.NvsOut is not null || settings.Output is not null
            || settings.WebInstall is not null;
        if (settings.EraseAll && offline)
            throw WsCoreException.Invalid(InputField.EraseAll,
                "erases a board: it cannot go with --dry-run, --nvs-out, --output or --web-install");
        // --monitor is the command line's own: no WsCore field stands for it.
        if (settings.Monitor && offline)
            throw new WsCoreException(FailureKind.InvalidInput,
                "--monitor: needs a board: it cannot go with --dry-run, --nvs-out, --output or --web-install");
        if (settings.Monitor && settings.Loader.After == AfterReset.NoReset)
            throw new WsCoreException(FailureKind.InvalidInput,
                "--monitor: the board must boot the new firmware: leave --after at hard-reset");
        // The ELF is read before the device is touched (a large one takes a moment, which must not fall between the
        // reset and the first boot line); a build without a usable one is monitored undecoded, with a warning.
        var decoder = settings.Monitor && settings.Firmware is { } build && Directory.Exists(build)
            ? LoadDecoderOrWarn(build, logger)
            : null;

        // 2. Offline outputs: no device.
        if (offline)
        {
            if (settings.NvsOut is { } nvsOut)
                PrivateFile.Write(nvsOut, plan.Regions.Single(r => r.Name == "nvs").Data, InputField.NvsImageFile);
            if (settings.Output is { } output)
                PrivateFile.Write(output, plan.Merge(), InputField.MergedImageFile);
            if (settings.WebInstall is { } folder)
            {
                var chip = plan.Chip is { } id ? KnownChips.ById(id)! : settings.Loader.Chip!;
                var (name, version) = WebInstallFolder.Describe(plan.Regions, settings.Firmware);
                WebInstallFolder.Write(folder, plan.Regions, chip, name, version, settings.WebInstallScript);
            }
            var written = new WrittenFiles(settings.NvsOut, settings.Output, settings.WebInstall);
            if (settings.Json)
                FlashPlanRenderer.WriteJson(plan, written, Console.OpenStandardOutput());
            else
                FlashPlanRenderer.WriteText(plan, written, Console.Out);
            return ExitCode.Ok;
        }

        // 3. The device.
        var after = settings.Monitor ? AfterReset.HardReset
            : settings.Loader.After ?? ResetNames.ParseAfter(plan.After) ?? AfterReset.HardReset;
        var (transport, usbJtag) = SerialPortOption.Open(settings.Loader.Port, LoaderConnector.RomBaudRate, logger);
        using (transport)
        {
            var observer = FlashProgress.ForConsole(settings.Json, progressOnStderr: false);
            var flasher = new EspFlasher(transport, new FlashSessionOptions
            {
                Before = settings.Loader.Before,
                After = after,
                Baud = settings.Loader.Baud,
                FlashSize = plan.DetectFlashSize ? null : plan.FlashSizeBytes,
                UsbJtagSerial = usbJtag,
                ExpectedChip = expectedChip,
                Force = settings.Force,
                EraseAll = settings.EraseAll,
            }, logger, observer);
            flasher.FlashAll(plan.Regions, cancel);
            logger.Debug("{Bytes} bytes sent on the line", flasher.BytesSent);
            if (settings.Monitor)
            {
                // The hard reset has started the new firmware; its console runs at 115200 whatever --baud flashed at.
                transport.SetBaudRate(115200);
                var options = new MonitorOptions { Decoder = decoder, ResetIntoApp = false };
                return MonitorSession.Run(transport, options, settings.Json, logger, cancel);
            }
        }
        return ExitCode.Ok;
    }

    /// <summary>
    /// An install page is for anyone who loads it: it takes a build (its chip known) and never the Wi-Fi settings.
    /// </summary>
    private static void CheckWebInstall(FlashSettings settings, DeviceSettings? device, FlashPlan plan)
    {
        if (device is not null)
            throw WsCoreException.Invalid(InputField.WebInstallDirectory,
                "a web page cannot hold the Wi-Fi password: leave out --ssid and --pass",
                "write the settings to the board afterwards with wsctl flash --ssid");
        if (settings.Firmware is null && settings.Images.Count == 0)
            throw WsCoreException.Invalid(InputField.WebInstallDirectory, "needs a build: give --firmware DIR");
        if (plan.Chip is null && settings.Loader.Chip is null)
            throw WsCoreException.Invalid(InputField.WebInstallDirectory,
                "the images do not say which chip they are for, and the manifest must",
                "name it with --chip, or give an ESP-IDF build directory with --firmware");
    }

    /// <summary>OFFSET=FILE, e.g. 0x10000=app.bin.</summary>
    public static (uint Offset, string Path) ParseImage(string spec)
    {
        var eq = spec.IndexOf('=');
        var offset = eq > 0 ? FlasherArgs.ParseOffset(spec[..eq]) : null;
        if (offset is null || eq == spec.Length - 1)
            throw WsCoreException.Invalid(InputField.Images, $"'{spec}' is not OFFSET=FILE (e.g. 0x10000=app.bin)");
        return (offset.Value, spec[(eq + 1)..]);
    }

    /// <summary>The settings to write as the NVS partition (null without an SSID); '-' reads the password.</summary>
    private static DeviceSettings? ReadDeviceSettings(FlashSettings settings, ILogger logger,
        CancellationToken cancel)
    {
        if (settings.Ssid is not { } ssid)
        {
            if (settings.Password is not null)
                throw WsCoreException.Invalid(InputField.Ssid, "--pass needs --ssid");
            // They go in the NVS partition, which is written with the Wi-Fi credentials or not at all.
            var nvsOnly = settings.DeviceEcho is not null ? "--device-echo"
                : settings.CounterInterval is not null ? "--counter-interval"
                : settings.OtaKeyFile is not null ? "--ota-key"
                : settings.OtaConfirmTimeout is not null ? "--ota-confirm-timeout"
                : null;
            if (nvsOnly is not null)
                throw WsCoreException.Invalid(InputField.Ssid,
                    $"{nvsOnly} is an NVS setting: give --ssid and --pass too (the NVS partition holds them all)");
            return null;
        }
        var device = new DeviceSettings(ssid, RequirePassword(settings.Password, cancel), settings.Hostname,
            settings.WebSocketPort, settings.MaxClients, settings.DeviceEcho, settings.CounterInterval,
            OtaConfirmTimeout: settings.OtaConfirmTimeout);
        device.Validate();
        return settings.OtaKeyFile is { } keyFile
            ? device with { OtaKey = ReadOtaKey(keyFile, settings.DryRun, logger) }
            : device;
    }

    /// <summary>
    /// The Wi-Fi password that goes with --ssid (flash and provision): --pass's value, '-' for the first line of stdin,
    /// or <see cref="PasswordVariable"/> when --pass is absent. Stdin that ends before a line (an empty file,
    /// /dev/null) is refused rather than taken for an open network's empty password: the board would be set up for a
    /// network it cannot join. An open network takes --pass "" (or an empty line).
    /// </summary>
    internal static string RequirePassword(string? given, CancellationToken cancel)
    {
        var password = given == "-"
            ? ReadLineOfStdin(cancel)?.TrimEnd('\r', '\n') ?? throw WsCoreException.Invalid(InputField.Password,
                "stdin ended before a line with the password",
                "put it on stdin (--pass - < wifi-pass.txt); an open network takes --pass \"\"")
            : given ?? Environment.GetEnvironmentVariable(PasswordVariable);
        return password ?? throw WsCoreException.Invalid(InputField.Password, "give the password with --pass (or " +
            $"'-' to read it from stdin, or {PasswordVariable}); use --pass \"\" for an open network");
    }

    // A read of stdin blocks in the kernel, where Ctrl-C (handled, so that the run can end cleanly) does not reach it:
    // with stdin piped and left open the verb would never end. The read runs aside and Ctrl-C ends the wait for it;
    // the process then exits with the read still pending.
    private static string? ReadLineOfStdin(CancellationToken cancel) =>
        Task.Run(Console.In.ReadLine, CancellationToken.None).WaitAsync(cancel).GetAwaiter().GetResult();

    /// <summary>
    /// The OTA key from <paramref name="path"/>, made there (0600, random) when the file does not exist; a dry run
    /// makes no file and plans with a key of the moment. The key itself is never logged.
    /// </summary>
    private static byte[] ReadOtaKey(string path, bool dryRun, ILogger logger)
    {
        if (dryRun && !File.Exists(path))
        {
            logger.Information("{Path} does not exist: a real run makes it with a new OTA key (mode 0600); the plan " +
                "uses a key of the moment", path);
            return System.Security.Cryptography.RandomNumberGenerator.GetBytes(DeviceSettings.OtaKeyBytes);
        }
        var contents = WsCore.Ota.OtaKeyFile.LoadOrCreate(path);
        if (contents.Created)
            logger.Information("Made {Path} with a new OTA key (mode 0600): keep it, wsctl ota needs it to update " +
                "this device", path);
        if (contents.OthersCanRead)
            logger.Warning("{Path} can be read by other users, and whoever holds the key can update the device: " +
                "chmod 600 {Path}", path, path);
        return contents.Key;
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
}
