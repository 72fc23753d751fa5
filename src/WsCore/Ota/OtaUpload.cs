using WsCore.WebSockets.Client;

namespace WsCore.Ota;

/// <summary>
/// The device's side of an upload as the client follows it (docs/ota-protocol.md §3-§4): its <c>progress</c>
/// acknowledgements, which open the window for more bytes, and the message that ends it, <c>rebooting</c> or an
/// <c>error</c>. <see cref="ReadAsync"/> runs beside the sender, which waits in <see cref="WaitForRoomAsync"/>.
/// </summary>
internal sealed class OtaUpload(WebSocketClient client, long size, long window)
{
    private readonly SemaphoreSlim _changed = new(0);
    private long _written;
    private volatile OtaDeviceMessage? _end;
    private volatile bool _finished;

    /// <summary>Bytes the device has acknowledged as written.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>
    /// Reads the device's messages until the upload ends: progress (reported through <paramref name="report"/>),
    /// then rebooting or an error. Throws the connection's failure when it ends without either.
    /// </summary>
    public async Task ReadAsync(Action<OtaEvent> report, CancellationToken cancel)
    {
        try
        {
            while (true)
            {
                var message = await client.ReceiveAsync(cancel);
                if (message is null)
                    throw new OtaException(OtaOutcome.Failed, FailureKind.ConnectionEnded,
                        $"the device closed the connection after {Written} of {size} bytes were written, without " +
                        "saying why (nothing boots differently)");
                OtaDeviceMessage parsed;
                using (message)
                    parsed = OtaConnection.Parse(client, message);
                switch (parsed.Type)
                {
                    case OtaMessageType.Progress:
                        // Acknowledgements only grow, and never past what was announced (and sent).
                        if (parsed.Number < Written || parsed.Number > size)
                            throw OtaConnection.ProtocolError(client, $"it acknowledged {parsed.Number} bytes after " +
                                $"{Written}, of {size}");
                        Interlocked.Exchange(ref _written, parsed.Number);
                        report(new OtaEvent(OtaEventKind.Progress, "") { Done = parsed.Number, Total = size });
                        _changed.Release();
                        break;
                    case OtaMessageType.Rebooting:
                    case OtaMessageType.Error:
                        if (parsed.Type == OtaMessageType.Error)
                            report(new OtaEvent(OtaEventKind.Error, "")
                            { Code = parsed.Text, Detail = parsed.Message });
                        _end = parsed;
                        return;
                    default:
                        throw OtaConnection.ProtocolError(client,
                            $"it sent {OtaConnection.Name(parsed.Type)} during the upload");
                }
            }
        }
        finally
        {
            // A sender waiting for room wakes to find the upload over.
            _finished = true;
            _changed.Release();
        }
    }

    /// <summary>
    /// Waits until <paramref name="sentAfter"/> bytes may be sent (that many, less the acknowledged, within the
    /// window); false when the upload ended first.
    /// </summary>
    /// <exception cref="OtaException">Timeout: no acknowledgement within <paramref name="timeout"/>.</exception>
    public async Task<bool> WaitForRoomAsync(long sentAfter, TimeSpan timeout, CancellationToken cancel)
    {
        while (sentAfter - Written > window)
        {
            if (_finished)
                return false;
            if (!await WaitForChangeAsync(timeout, cancel))
                throw new OtaException(OtaOutcome.Failed, FailureKind.Timeout,
                    $"the device acknowledged nothing for {OtaClient.Format(timeout)} ({Written} of {size} bytes " +
                    "written; nothing boots differently)");
        }
        return !_finished;
    }

    /// <summary>
    /// After the last byte: waits for the end of the upload (the device hashes what it wrote, reading it back),
    /// within <paramref name="timeout"/> of the last message; returns the slot of <c>rebooting</c>.
    /// </summary>
    public async Task<string> WaitForEndAsync(Task reading, TimeSpan timeout, CancellationToken cancel)
    {
        while (!reading.IsCompleted)
        {
            var last = Written;
            if (!await WaitForChangeAsync(timeout, cancel) && Written == last && !reading.IsCompleted)
                throw new OtaException(OtaOutcome.Failed, FailureKind.Timeout,
                    $"the device did not finish within {OtaClient.Format(timeout)} of its last message ({Written} " +
                    $"of {size} bytes written; nothing boots differently)");
        }
        await reading; // its failure, if it failed
        var end = _end!;
        if (end.Type == OtaMessageType.Error)
            throw OtaClient.Refusal(end.Text!, end.Message ?? end.Text!);
        return end.Text ?? "the other slot";
    }

    private async Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken cancel) =>
        await _changed.WaitAsync(timeout, cancel);
}
