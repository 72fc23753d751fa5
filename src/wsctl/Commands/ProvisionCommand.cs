using System.CommandLine;
using WsCore.Nvs;
using Wsctl.Cli;
using Wsctl.Flash;
using Wsctl.Provision;

namespace Wsctl.Commands;

/// <summary>
/// <c>wsctl provision</c>: Wi-Fi credentials to a running device over Improv Wi-Fi serial, without a reset into the
/// bootloader.
/// </summary>
public static class ProvisionCommand
{
    public static Command Create()
    {
        var port = SerialPortOption.Create();
        var baud = Options.Integer("--baud", "The console's baud rate.", 115200, 9600, 5_000_000, "N", "-b");
        var ssid = new Option<string?>("--ssid")
        {
            Description = $"Wi-Fi network name (1-{DeviceSettings.SsidMaxBytes} bytes) for the device to join.",
        };
        var pass = new Option<string?>("--pass")
        {
            Description = $"Wi-Fi password ({DeviceSettings.PassphraseMinLength}-" +
                $"{DeviceSettings.PassphraseMaxLength} characters, {DeviceSettings.PskHexLength} hex digits, " +
                $"or \"\" for an open network). '-' reads it from stdin; {FlashSession.PasswordVariable} is used " +
                "when --pass is absent. A value given here is visible in process listings.",
            HelpName = "PASSWORD|-",
        };
        var scan = new Option<bool>("--scan")
        {
            Description = "List the Wi-Fi networks the device sees (before joining, with --ssid).",
        };
        var probe = new Option<bool>("--probe")
        {
            Description = "Once joined, run wsctl probe on the URL the device gives.",
        };
        var timeout = SharedOptions.Timeout("How long to wait for each answer, joining included (the firmware " +
            "gives up joining after 30 s and says so).", ProvisionSession.DefaultTimeout);
        var json = SharedOptions.Json("one result object: the device, its networks, the URL, the probe");

        var command = new Command("provision", HelpText.Describe(
            "Give a running device its Wi-Fi over the serial port (Improv Wi-Fi serial, as ESP Web Tools does): " +
            "no reset into the bootloader, no reflash. Prints the device's URL once it joined.",
            [
                "wsctl provision --ssid MyNet --pass - < wifi-pass.txt      # auto-detected port",
                "wsctl provision -p /dev/ttyUSB0 --scan                      # the networks the device sees",
                "wsctl provision --ssid MyNet --pass - --probe < wifi-pass.txt   # then check that it answers",
            ],
            "The password comes from --pass - (stdin) or WSCTL_WIFI_PASS, as for flash, and never appears in any " +
            "output. The device stores the network in NVS namespace wsctl (ssid, pass), where flash puts it. A " +
            "wrong password: exit 4, and the device keeps its previous settings. No Improv answer: exit 10 (the " +
            "firmware must support Improv Wi-Fi serial).",
            ExitCode.Ok, ExitCode.Usage, ExitCode.ConnectFailed, ExitCode.Timeout, ExitCode.Device,
            ExitCode.Interrupted))
        {
            port, baud, ssid, pass, scan, probe, timeout, json,
        };
        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, (logger, token) =>
            ProvisionSession.RunAsync(new ProvisionSettings
            {
                Port = parse.GetValue(port) ?? "auto",
                Baud = parse.GetValue(baud),
                Ssid = parse.GetValue(ssid),
                Password = parse.GetValue(pass),
                Scan = parse.GetValue(scan),
                Probe = parse.GetValue(probe),
                Timeout = parse.GetValue(timeout),
                Json = parse.GetValue(json),
            }, logger, token)));
        return command;
    }
}
