using System.Diagnostics;
using WsCore.Targets;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;

namespace WsCore.Ota;

/// <summary>
/// Updates one device over wsctl-ota.1 (docs/ota-protocol.md): reads its hello, authenticates <c>begin</c>, sends
/// the image within the device's window, waits for <c>rebooting</c>, then for the device to come back, and confirms
/// the new image with a fresh nonce. It never reports success before the device runs the new image. Every wait is
/// bounded: <see cref="OtaOptions.Timeout"/> for each step of the upload, <see cref="OtaOptions.ConfirmTimeout"/>
/// for the device's return.
/// </summary>
/// <remarks>
/// Thread-safety: one update per instance at a time; separate instances run concurrently (a fleet). Failures are
/// <see cref="OtaException"/>s (or the connection's <see cref="WsCoreException"/>s) whose kind is the exit code's.
/// </remarks>
public sealed class OtaClient(OtaOptions options, IOtaObserver? observer = null)
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(2);
    private readonly OtaOptions _options = options;

    /// <summary>
    /// The URL of <paramref name="target"/>'s update endpoint: its own path, or /ota where it names none.
    /// </summary>
    public static Uri EndpointOf(WebSocketTarget target) =>
        (target.Path == "/" ? target with { Path = OtaProtocol.Path } : target).Uri;

    /// <summary>Updates the device at <paramref name="target"/> to <paramref name="image"/>.</summary>
    /// <param name="target">The device (its /ota endpoint: see <see cref="EndpointOf"/>).</param>
    /// <param name="name">The device as the caller names it, for the events.</param>
    /// <param name="image">The app image to install.</param>
    /// <param name="cancel">Ends the update; what boots then depends on how far it got (before
    /// <c>rebooting</c>: the previous app).</param>
    public async Task<OtaResult> UpdateAsync(Uri target, string name, OtaImage image, CancellationToken cancel)
    {
        var started = Stopwatch.GetTimestamp();
        OtaHello before;
        await using (var session = await OtaConnection.OpenAsync(target, _options, cancel))
        {
            before = session.Hello;
            Report(new OtaEvent(OtaEventKind.Hello, name) { Hello = before, Total = image.Data.Length });
            CheckBeforeBegin(before, image);
            if (before.Runs(image))
            {
                // Nothing to send: a confirmation may still be owed (an earlier update left unconfirmed).
                if (!before.IsPending)
                    return Done(OtaOutcome.Current, before, before, 0);
                if (!_options.Confirm)
                    return Done(OtaOutcome.Pending, before, before, 0);
                await session.ConfirmAsync(image, _options.Key, name, this, cancel);
                return Done(OtaOutcome.Updated, before, before, 0);
            }
            await session.BeginAsync(image, _options, cancel);
            Report(new OtaEvent(OtaEventKind.Authenticated, name) { Total = image.Data.Length });
            var slot = await session.UploadAsync(image, name, this, cancel);
            Report(new OtaEvent(OtaEventKind.Rebooting, name) { Detail = slot, Total = image.Data.Length });
        }
        var after = await AwaitReturnAsync(target, name, image, before, cancel);
        return Done(_options.Confirm ? OtaOutcome.Updated : OtaOutcome.Pending, before, after, image.Data.Length);

        OtaResult Done(OtaOutcome outcome, OtaHello first, OtaHello last, long sent)
        {
            if (outcome != OtaOutcome.Current)
                Report(new OtaEvent(OtaEventKind.Confirmed, name)
                {
                    Hello = last,
                    Version = last.Version,
                    Detail = outcome == OtaOutcome.Pending ? "not confirmed, as asked" : null
                });
            return new OtaResult(outcome, first, last, sent, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// Reads the hello of the device at <paramref name="endpoint"/> and closes: what it runs, for a caller that only
    /// looks (<c>probe</c>). <paramref name="options"/>' key is not used.
    /// </summary>
    /// <exception cref="WsCoreException">The connection's failures; HandshakeRejected for a refusal (403: no key) or
    /// a server without the subprotocol.</exception>
    public static async Task<OtaHello> ReadHelloAsync(Uri endpoint, OtaOptions options, CancellationToken cancel)
    {
        await using var connection = await OtaConnection.OpenAsync(endpoint, options, cancel);
        return connection.Hello;
    }

    internal void Report(OtaEvent e) => observer?.OnEvent(e);

    /// <summary>
    /// What the device would refuse before erasing anything, refused here first with the same words: another chip,
    /// an image larger than the slot, another project unless forced.
    /// </summary>
    private void CheckBeforeBegin(OtaHello hello, OtaImage image)
    {
        if (!string.Equals(hello.Chip, image.ChipName, StringComparison.OrdinalIgnoreCase)
            && Chips.KnownChips.ById(hello.Chip) is not null)
            throw Refusal("wrong_chip", $"the image is for {image.ChipName}; the device is an {hello.Chip}");
        if (image.Data.Length > hello.SlotSize)
            throw Refusal("too_big", $"the image is {image.Data.Length} bytes; the device's update slot holds " +
                $"{hello.SlotSize}");
        if (!_options.Force && hello.Project != image.Project)
            throw Refusal("wrong_project", $"the image is of project '{image.Project}'; the device runs " +
                $"'{hello.Project}'");
    }

    /// <summary>The failure a device's error code stands for (docs/ota-protocol.md §3-§5, README).</summary>
    internal static OtaException Refusal(string code, string words) => code switch
    {
        "auth_failed" => new OtaException(OtaOutcome.AuthenticationFailed, FailureKind.AuthenticationFailed,
            $"the device refused the key: {words}",
            "use the key file that was flashed to this device")
        { HintField = InputField.OtaKey, DeviceCode = code },
        "wrong_project" => new OtaException(OtaOutcome.Refused, FailureKind.InvalidInput, words,
            "force the update to install another project")
        {
            Field = InputField.Firmware,
            HintField = InputField.Force,
            DeviceCode = code
        },
        "not_an_image" or "wrong_chip" or "too_big" or "invalid_image" =>
            new OtaException(OtaOutcome.Refused, FailureKind.InvalidInput, $"{words} (nothing boots differently)")
            { Field = InputField.Firmware, DeviceCode = code },
        "sha256_mismatch" => new OtaException(OtaOutcome.Failed, FailureKind.VerificationFailed,
            $"{words} (nothing boots differently)", "try again: the flash may have failed to take the image")
        { DeviceCode = code },
        "too_much" => new OtaException(OtaOutcome.Failed, FailureKind.ConnectionEnded, words) { DeviceCode = code },
        _ => new OtaException(OtaOutcome.Failed, FailureKind.Other, words) { DeviceCode = code },
    };

    /// <summary>
    /// After <c>rebooting</c>: connects again and again (250 ms, doubling to 2 s, between attempts) until the device
    /// answers with a hello, within <see cref="OtaOptions.ConfirmTimeout"/>. Running the new image: confirms it (or,
    /// without <see cref="OtaOptions.Confirm"/>, leaves it pending). Running the previous one with a rollback
    /// recorded: rolled back. The previous one without (the old app not restarted yet): waits on.
    /// </summary>
    private async Task<OtaHello> AwaitReturnAsync(Uri target, string name, OtaImage image, OtaHello before,
        CancellationToken cancel)
    {
        var deadline = Deadline.After(_options.ConfirmTimeout);
        var delay = FirstRetryDelay;
        string? lastError = null;
        OtaHello? stillOld = null;
        while (deadline.Left > TimeSpan.Zero)
        {
            try
            {
                var attempt = _options with { Timeout = Min(_options.Timeout, deadline.Left) };
                await using var session = await OtaConnection.OpenAsync(target, attempt, cancel);
                var hello = session.Hello;
                if (hello.Runs(image))
                {
                    Report(new OtaEvent(OtaEventKind.Hello, name) { Hello = hello });
                    if (_options.Confirm && hello.IsPending)
                        await session.ConfirmAsync(image, _options.Key, name, this, cancel);
                    return hello;
                }
                if (hello.LastUpdate.RolledBack && (hello.LastUpdate.Version is null
                    || hello.LastUpdate.Version == image.Version))
                {
                    var reason = hello.LastUpdate.Reason ?? "unknown";
                    Report(new OtaEvent(OtaEventKind.RolledBack, name)
                    { Hello = hello, Detail = reason, Version = hello.Version });
                    throw new OtaException(OtaOutcome.RolledBack, FailureKind.VerificationFailed,
                        $"the device rolled back to {hello.Version} ({ReasonWords(reason)}); {image.Version} did not " +
                        "stay", RollbackHint(reason))
                    { Reason = reason };
                }
                stillOld = hello;
                lastError = $"it still runs {hello.Version}";
            }
            catch (WsCoreException e) when (Retryable(e) && !cancel.IsCancellationRequested)
            {
                // Down (restarting) or not answering yet: an old app seen before no longer says how it ends.
                stillOld = null;
                lastError = e.Message;
                if (e is WebSocketHandshakeException { StatusCode: 429 } busy
                    && int.TryParse(busy.Response.Get("Retry-After"), out var seconds) && seconds > 0)
                    delay = Min(TimeSpan.FromSeconds(seconds), TimeSpan.FromSeconds(60));
            }
            Report(new OtaEvent(OtaEventKind.Waiting, name) { Detail = lastError });
            var wait = Min(delay, deadline.Left);
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait, cancel);
            delay = Min(delay * 2, LongestRetryDelay);
        }
        var limit = Format(_options.ConfirmTimeout);
        if (stillOld is not null)
            throw new OtaException(OtaOutcome.NotConfirmed, FailureKind.Timeout,
                $"the device still ran {stillOld.Version}, not {image.Version}, {limit} after it said it was " +
                "restarting, and recorded no rollback");
        throw new OtaException(OtaOutcome.NotConfirmed, FailureKind.Timeout,
            $"the device did not come back within {limit} of restarting into {image.Version}" +
            (lastError is null ? "" : $" (last attempt: {lastError})"),
            "it rolls back by itself unless confirmed: run the update again once it is back to confirm it, or " +
            "allow it longer")
        { HintField = InputField.OtaConfirmWait };
    }

    /// <summary>
    /// Whether a failure while waiting for the device is one to try again: the connection's (refused, reset, 503,
    /// no hello in time), not a device's answer (a refused confirmation) nor a rollback found.
    /// </summary>
    private static bool Retryable(WsCoreException e) =>
        e is not OtaException ota || (ota.DeviceCode is null && ota.Outcome is OtaOutcome.Failed or OtaOutcome.Refused);

    private static string ReasonWords(string reason) => reason switch
    {
        "not_confirmed" => "it was not confirmed before its deadline",
        "panic" => "the new app panicked before it was confirmed",
        "watchdog" => "a watchdog reset the new app before it was confirmed",
        "reset" => "the new app was reset before it was confirmed",
        "invalid" => "the new app marked itself invalid",
        _ => $"reason: {reason}",
    };

    private static string? RollbackHint(string reason) => reason switch
    {
        "panic" or "watchdog" => "wsctl monitor shows the new app's panic with its backtrace",
        "not_confirmed" => "the device needs its network and server up, and a confirmation, within its deadline",
        _ => null,
    };

    internal static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    internal static string Format(TimeSpan value) =>
        value.TotalSeconds >= 1 && value.Ticks % TimeSpan.TicksPerSecond == 0
            ? $"{value.TotalSeconds:0} s"
            : $"{value.TotalMilliseconds:0} ms";
}
