using System.CommandLine;
using WsCore.Chips;
using WsCore.Esp;
using WsCore.Flashing;
using WsCore.Nvs;
using Wsctl.Cli;
using Wsctl.Flash;

namespace Wsctl.Commands;

/// <summary>
/// <c>wsctl flash</c>: writes Wi-Fi credentials (an NVS partition) and optionally firmware to an ESP32 through its
/// ROM bootloader, or just produces the images (<c>--nvs-out</c>, <c>--output</c>, <c>--dry-run</c>).
/// </summary>
public static class FlashCommand
{
    public static Command Create()
    {
        var loader = new LoaderOptions();
        var flashSize = new Option<string?>("--flash-size")
        {
            Description = "Flash size (1MB, 2MB, 4MB, 8MB, 16MB), detect (read the flash chip's JEDEC ID once " +
                "connected), or keep. Default: the build's setting, else keep (4MB assumed for checks).",
            HelpName = "SIZE",
        };
        var flashMode = new Option<string?>("--flash-mode")
        {
            Description = "Flash mode patched into the bootloader: qio, qout, dio, dout or keep. " +
                "Default: the build's setting, else keep.",
            HelpName = "MODE",
        };
        var flashFreq = new Option<string?>("--flash-freq")
        {
            Description = "Flash frequency patched into the bootloader: 80m, 40m, 26m, 20m or keep. " +
                "Default: the build's setting, else keep.",
            HelpName = "FREQ",
        };
        var firmware = new Option<string?>("--firmware")
        {
            Description = "An ESP-IDF build directory (reads flasher_args.json) or an app .bin (written at 0x10000).",
            HelpName = "DIR|FILE",
        };
        var image = new Option<string[]>("--image")
        {
            Description = "Write FILE at OFFSET (repeatable), e.g. --image 0x10000=app.bin.",
            HelpName = "OFFSET=FILE",
        };
        var ssid = new Option<string?>("--ssid")
        {
            Description = $"Wi-Fi network name (1-{DeviceSettings.SsidMaxBytes} bytes). With it, the NVS partition " +
                "with the settings below is written.",
        };
        var pass = new Option<string?>("--pass")
        {
            Description = $"Wi-Fi password ({DeviceSettings.PassphraseMinLength}-" +
                $"{DeviceSettings.PassphraseMaxLength} characters, {DeviceSettings.PskHexLength} hex digits, " +
                "or \"\" for an open network). '-' reads it " +
                $"from stdin; {FlashSession.PasswordVariable} is used when --pass is absent. A value given here is " +
                "visible in process listings.",
            HelpName = "PASSWORD|-",
        };
        var hostname = new Option<string>("--hostname")
        {
            Description = $"The device's host name (mDNS): 1-{DeviceSettings.HostnameMaxLength} letters, digits " +
                "and '-'.",
            DefaultValueFactory = _ => DeviceSettings.DefaultHostname,
        };
        var wsPort = Options.Integer("--ws-port", "The device's WebSocket port.", DeviceSettings.DefaultWebSocketPort,
            DeviceSettings.MinWebSocketPort, DeviceSettings.MaxWebSocketPort, "PORT");
        var maxClients = Options.Integer("--max-clients",
            $"Simultaneous WebSocket clients the device accepts ({DeviceSettings.MinClients}-" +
            $"{DeviceSettings.MaxClientsLimit}).",
            DeviceSettings.DefaultMaxClients, DeviceSettings.MinClients, DeviceSettings.MaxClientsLimit);
        var deviceEcho = new Option<bool>("--device-echo")
        {
            Description = "Have the device echo each message to its sender (NVS key echo; --device-echo false " +
                "turns it off). Not given: the NVS image has no echo key and the device does not echo.",
        };
        var counterInterval = Options.OptionalDuration("--counter-interval",
            "How often the device broadcasts its counter message, 0 for never (NVS key counter_ms, up to 1h). " +
            $"Not given: the device's own interval ({DeviceSettings.DefaultCounterIntervalMs / 1000}s by default).",
            DeviceSettings.MaxCounterInterval);
        var otaKey = new Option<string?>("--ota-key")
        {
            Description = "Write the OTA key of FILE (64 hex digits) into the NVS partition (key ota_key), so that " +
                "wsctl ota can update the device over its WebSocket port; FILE is made with a new random key (mode " +
                "0600) when it does not exist. Without it the device refuses updates. The key appears in no output.",
            HelpName = "FILE",
        };
        var otaConfirmTimeout = Options.OptionalDuration("--ota-confirm-timeout",
            "How long an updated app waits to be confirmed before it rolls back (NVS key ota_confirm_s, whole " +
            $"seconds, {DeviceSettings.MinOtaConfirmSeconds}s to 1h). Not given: the device's own " +
            $"({DeviceSettings.DefaultOtaConfirmSeconds}s by default).",
            DeviceSettings.MaxOtaConfirmTimeout);
        var nvsOut = new Option<string?>("--nvs-out")
        {
            Description = "Write the NVS partition image to FILE (mode 0600) instead of flashing.",
            HelpName = "FILE",
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Write one merged flash image of every region (0xFF between them, mode 0600) instead of " +
                "flashing.",
            HelpName = "FILE",
        };
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Print the plan (regions, offsets, sizes, MD5s) and touch no device.",
        };
        var json = SharedOptions.Json("each event (progress, verified, done, error), for wrappers");
        var force = new Option<bool>("--force")
        {
            Description = "Write the bootloader and app even when their image header is damaged or names another chip.",
        };
        var eraseAll = new Option<bool>("--erase-all")
        {
            Description = "Erase the whole flash first (as esptool's --erase-all): nothing of what the board held " +
                "survives, its Wi-Fi settings included; every region is then written.",
        };
        var webInstall = new Option<string?>("--web-install")
        {
            Description = "Write an ESP Web Tools install folder (the images, manifest.json, index.html with " +
                "<esp-web-install-button>) to DIR instead of flashing; serve it over https or from localhost. " +
                "Never holds the Wi-Fi settings.",
            HelpName = "DIR",
        };
        var webInstallScript = new Option<string>("--web-install-script")
        {
            Description = "Where the install page loads ESP Web Tools' install-button.js from (a URL, or a path " +
                "relative to the page for a copy served beside it).",
            HelpName = "URL",
            DefaultValueFactory = _ => WebInstall.DefaultScript,
        };
        var monitor = new Option<bool>("--monitor")
        {
            Description = "After the hard reset, show the board's console as wsctl monitor does (panics decoded with " +
                "the app ELF of --firmware DIR).",
        };

        var command = new Command("flash", HelpText.Describe(
            "Write Wi-Fi credentials and firmware to an ESP32 over its ROM bootloader.",
            [
                "wsctl flash --ssid MyNet --pass - < wifi-pass.txt           # credentials only, auto-detected port",
                "wsctl flash -p /dev/ttyUSB0 --firmware build --ssid MyNet --pass - --baud 921600 < wifi-pass.txt",
                "wsctl flash --ssid MyNet --pass - --nvs-out nvs.bin < wifi-pass.txt   # just the NVS image",
                "wsctl flash --firmware build --monitor                      # then watch it boot (Ctrl-] ends)",
                "wsctl flash --firmware build --web-install site/             # a page that installs it from a browser",
                "wsctl flash --ssid MyNet --pass - --device-echo --counter-interval 0 < wifi-pass.txt   # for bench " +
                    "--mode echo",
                "wsctl flash --ssid MyNet --pass - --ota-key ota.key < wifi-pass.txt   # and the key wsctl ota needs",
            ],
            "The password comes from --pass - (stdin) or the environment variable WSCTL_WIFI_PASS, which keep it " +
            "out of ps and the shell's history (--pass PASS does not); an open network takes --pass ''. The NVS " +
            "partition " +
            "(namespace wsctl: ssid, pass, hostname, port, max_clients, and echo, counter_ms, ota_key and " +
            "ota_confirm_s when --device-echo, --counter-interval, --ota-key or --ota-confirm-timeout is given) goes " +
            "where the firmware's partition table puts it, else at 0x9000 (0x6000 bytes). Neither the password nor " +
            "the OTA key ever appears in any output.\n\n" +
            "With --monitor the exit code is the monitor's once flashing succeeded (12 when the new firmware " +
            "panics).",
            ExitCode.Ok, ExitCode.Usage, ExitCode.Device, ExitCode.VerificationFailed, ExitCode.DeviceCrashed,
            ExitCode.Interrupted));
        loader.AddTo(command);
        foreach (var option in (Option[])[
            flashSize, flashMode, flashFreq, firmware, image, ssid, pass, hostname, wsPort, maxClients, deviceEcho,
            counterInterval, otaKey, otaConfirmTimeout, eraseAll, nvsOut, output, webInstall, webInstallScript, dryRun,
            json, force, monitor])
            command.Options.Add(option);
        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, (logger, token) =>
            FlashSession.RunAsync(new FlashSettings
            {
                Loader = loader.Read(parse),
                FlashSize = parse.GetValue(flashSize),
                FlashMode = parse.GetValue(flashMode),
                FlashFreq = parse.GetValue(flashFreq),
                Firmware = parse.GetValue(firmware),
                Images = parse.GetValue(image) ?? [],
                Ssid = parse.GetValue(ssid),
                Password = parse.GetValue(pass),
                Hostname = parse.GetValue(hostname) ?? DeviceSettings.DefaultHostname,
                WebSocketPort = parse.GetValue(wsPort),
                MaxClients = parse.GetValue(maxClients),
                // Written only when given, so an image made without them is the one older versions made.
                DeviceEcho = parse.GetResult(deviceEcho) is { Implicit: false } ? parse.GetValue(deviceEcho) : null,
                CounterInterval = parse.GetValue(counterInterval),
                EraseAll = parse.GetValue(eraseAll),
                WebInstall = parse.GetValue(webInstall),
                WebInstallScript = parse.GetValue(webInstallScript) ?? WebInstall.DefaultScript,
                OtaKeyFile = parse.GetValue(otaKey),
                OtaConfirmTimeout = parse.GetValue(otaConfirmTimeout),
                NvsOut = parse.GetValue(nvsOut),
                Output = parse.GetValue(output),
                DryRun = parse.GetValue(dryRun),
                Json = parse.GetValue(json),
                Force = parse.GetValue(force),
                Monitor = parse.GetValue(monitor),
            }, logger, token)));
        return command;
    }
}
