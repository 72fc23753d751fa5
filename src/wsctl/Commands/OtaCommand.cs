using System.CommandLine;
using WsCore.Nvs;
using Wsctl.Cli;
using Wsctl.Ota;

namespace Wsctl.Commands;

/// <summary>
/// <c>wsctl ota</c>: updates the app of running devices over their own WebSocket port (wsctl-ota.1,
/// docs/ota-protocol.md), and stays until each runs the new image and confirmed it, or rolled back.
/// </summary>
public static class OtaCommand
{
    public static Command Create()
    {
        var target = SharedOptions.Target("The device to update (its /ota endpoint, unless a path is given); more " +
            "with --to, or every device --discover finds.", optional: true);
        var firmware = new Option<string>("--firmware")
        {
            Description = "The app to install: an ESP-IDF build directory (its flasher_args.json names the app) or " +
                "an app .bin.",
            HelpName = "DIR|FILE",
            Required = true,
        };
        var otaKey = new Option<string?>("--ota-key")
        {
            Description = "The device's OTA key file (64 hex digits), the one wsctl flash --ota-key wrote to it. " +
                "Required unless --dry-run.",
            HelpName = "FILE",
        };
        var to = new Option<string[]>("--to")
        {
            Description = $"Another device to update (repeatable): {SharedOptions.TargetForms}.",
            HelpName = "TARGET",
        };
        var discover = new Option<bool>("--discover")
        {
            Description = "Update every _ws._tcp device found by mDNS on the link (browses for min(--timeout, 3 s)); " +
                "--match selects among them.",
        };
        var match = new Option<string?>("--match")
        {
            Description = "With --discover: only the devices whose instance name, host name or a TXT entry " +
                "(key=value) matches this glob, e.g. 'kitchen-*' or 'version=1.2.*'.",
            HelpName = "GLOB",
        };
        var canary = Options.Integer("--canary",
            "Update this many devices first (in the order given, discovered ones by host name), and the rest only " +
            "if every one of them succeeded.", 0, 0, 1000);
        var parallel = Options.Integer("--parallel", "Update at most this many devices at once.", 4, 1, 256);
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Check the image (and the key file, if given), list the devices (--discover browses), and " +
                "print the plan; contact no device.",
        };
        var noConfirm = new Option<bool>("--no-confirm")
        {
            Description = "Leave the new image unconfirmed once the device runs it: it rolls back at its own " +
                "deadline unless confirmed (running wsctl ota with the same image again confirms it).",
        };
        var force = new Option<bool>("--force")
        {
            Description = "Install an image of another project than the device runs (the device refuses it " +
                "otherwise), or send the image again to a device that runs it already.",
        };
        var confirmTimeout = Options.Duration("--confirm-timeout",
            "How long to wait, after the device restarts, for it to come back running the new image and confirm " +
            "it; longer than the device's own deadline shows a rollback as one (exit 11) rather than as a timeout.",
            TimeSpan.FromSeconds(DeviceSettings.DefaultOtaConfirmSeconds), TimeSpan.FromSeconds(1));
        var timeout = SharedOptions.Timeout("The limit of each wait during the upload: connecting, the device's " +
            "hello and answers, each acknowledgement (the first waits for the erase), the read-back hash.",
            TimeSpan.FromSeconds(30));
        var json = SharedOptions.Json("each event (hello, auth, progress, rebooting, confirmed, rolled_back, error), " +
            "a target line per device, then the result");

        var command = new Command("ota", HelpText.Describe(
            "Update the app of running devices over their own WebSocket port, and stay until each runs the new " +
            "image and confirmed it, or rolled back.",
            [
                "wsctl ota esp32ws.local --firmware build --ota-key ota.key",
                "wsctl ota --to esp32-a.local --to esp32-b.local --firmware build --ota-key ota.key --canary 1 --json",
                "wsctl ota esp32ws.local --firmware build --dry-run   # check the image, contact nothing",
            ],
            "The device must have been flashed with the key (wsctl flash --ota-key FILE); it refuses the update " +
            "otherwise (403, exit 5). The image is checked before anything is sent: an ESP app image, for the " +
            "device's chip, no larger than its update slot, of the project it runs (unless --force). The device " +
            "writes the other slot, checks what it wrote, restarts into it and runs it unconfirmed: wsctl " +
            "confirms it once it is back. If the new app crashes, or is not confirmed within the device's deadline " +
            "(wsctl flash --ota-confirm-timeout, 120 s by default), the device boots the previous app again: exit " +
            "11, with the reason. A connection lost during the upload changes nothing that boots.\n\n" +
            "With several devices, one result line each; exit 9 when some were not updated, the first failure's " +
            "code when none was. The key never appears in any output.",
            ExitCode.Ok, ExitCode.Usage, ExitCode.Failure, ExitCode.NameNotResolved, ExitCode.ConnectFailed,
            ExitCode.HandshakeRejected, ExitCode.Timeout, ExitCode.ConnectionEnded, ExitCode.Tls, ExitCode.Partial,
            ExitCode.VerificationFailed, ExitCode.Interrupted))
        {
            target, firmware, otaKey, to, discover, match, canary, parallel, dryRun, noConfirm, force, confirmTimeout,
            timeout, json,
        };
        command.SetAction((parse, cancel) => VerbRunner.RunAsync(parse, cancel, (log, token) =>
            OtaSession.RunAsync(new OtaSettings
            {
                Target = parse.GetValue(target),
                To = parse.GetValue(to) ?? [],
                Discover = parse.GetValue(discover),
                Match = parse.GetValue(match),
                Firmware = parse.GetValue(firmware)!,
                KeyFile = parse.GetValue(otaKey),
                DryRun = parse.GetValue(dryRun),
                Confirm = !parse.GetValue(noConfirm),
                Force = parse.GetValue(force),
                ConfirmTimeout = parse.GetValue(confirmTimeout),
                Timeout = parse.GetValue(timeout),
                Canary = parse.GetValue(canary),
                Parallel = parse.GetValue(parallel),
                Json = parse.GetValue(json),
            }, error => InputFlags.Describe(error, parse), log, Console.OpenStandardOutput(), token)));
        return command;
    }
}
