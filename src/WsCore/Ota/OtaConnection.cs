using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;

namespace WsCore.Ota;

/// <summary>
/// One connection to a device's <c>/ota</c>: the hello it starts with, then <c>begin</c> and the upload, or
/// <c>confirm</c>. Each wait is bounded by <see cref="OtaOptions.Timeout"/> (the upload's: from the last
/// acknowledgement).
/// </summary>
internal sealed class OtaConnection : IAsyncDisposable
{
    private readonly WebSocketClient _client;
    private readonly OtaOptions _options;

    private OtaConnection(WebSocketClient client, OtaHello hello, OtaOptions options)
    {
        _client = client;
        Hello = hello;
        _options = options;
    }

    /// <summary>The device's hello on this connection (its nonce serves one begin or one confirm).</summary>
    public OtaHello Hello { get; }

    /// <summary>Connects with the subprotocol and reads the hello.</summary>
    /// <exception cref="WsCoreException">The connection's failures (HandshakeRejected: 403 no key, 409 an update in
    /// progress, 429 after a failed authentication, 503 full), Timeout, ConnectionEnded (no hello).</exception>
    public static async Task<OtaConnection> OpenAsync(Uri uri, OtaOptions options, CancellationToken cancel)
    {
        var client = await WebSocketClient.ConnectAsync(uri, new WebSocketClientOptions
        {
            Subprotocols = [OtaProtocol.Subprotocol],
            ConnectTimeout = options.Timeout,
            CloseTimeout = OtaClient.Min(options.Timeout, TimeSpan.FromSeconds(2)),
            MaxMessageBytes = 64 * 1024,
            Resolve = options.Resolve,
            AllowUntrustedCertificate = options.AllowUntrustedCertificate,
            CertificatePin = options.CertificatePin,
            Logger = options.Logger,
        }, cancel);
        try
        {
            // RFC 6455 §4.1: a server may accept without a subprotocol; one that does is not an OTA endpoint.
            if (client.Subprotocol != OtaProtocol.Subprotocol)
                throw new OtaException(OtaOutcome.Refused, FailureKind.HandshakeRejected,
                    $"{uri} accepted the connection but not the subprotocol {OtaProtocol.Subprotocol}: it has no " +
                    "OTA endpoint", "is it a device with wsctl's firmware, 1.3 or later?");
            var hello = await ReceiveAsync(client, options.Timeout, "its hello", cancel);
            if (hello.Type != OtaMessageType.Hello)
                throw ProtocolError(client, $"its first message was {Name(hello.Type)}, not hello");
            return new OtaConnection(client, hello.Hello!, options);
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends the authenticated <c>begin</c> and waits for <c>ready</c>.</summary>
    public async Task BeginAsync(OtaImage image, OtaOptions options, CancellationToken cancel)
    {
        var auth = OtaAuth.Begin(options.Key, Hello.Nonce, image.Data.Length, image.Sha256, options.Force);
        await _client.SendAsync(MessageType.Text, OtaMessages.Begin(image.Data.Length, image.Sha256, options.Force,
            auth), cancel);
        var answer = await ReceiveAsync(_client, options.Timeout, "the answer to begin", cancel);
        if (answer.Type == OtaMessageType.Error)
            throw OtaClient.Refusal(answer.Text!, answer.Message ?? answer.Text!);
        if (answer.Type != OtaMessageType.Ready)
            throw ProtocolError(_client, $"it answered begin with {Name(answer.Type)}, not ready");
        Window = answer.Number;
    }

    /// <summary>The bytes that may be sent and not yet acknowledged (from <c>ready</c>).</summary>
    public long Window { get; private set; }

    /// <summary>
    /// Sends the image in frames of at most 16 KiB, never more than <see cref="Window"/> bytes ahead of the
    /// device's acknowledgements, then waits for <c>rebooting</c>; returns the slot it names.
    /// </summary>
    public async Task<string> UploadAsync(OtaImage image, string name, OtaClient client, CancellationToken cancel)
    {
        var size = image.Data.Length;
        var upload = new OtaUpload(_client, size, Window);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var reading = upload.ReadAsync(e => client.Report(e with { Target = name }), stop.Token);
        try
        {
            var offset = 0;
            while (offset < size && !reading.IsCompleted)
            {
                var frame = Math.Min(OtaProtocol.MaxFrameBytes, size - offset);
                if (!await upload.WaitForRoomAsync(offset + frame, _options.Timeout, cancel))
                    break;
                try
                {
                    await _client.SendAsync(MessageType.Binary, image.Data.AsMemory(offset, frame), cancel);
                }
                catch (WsCoreException) when (!cancel.IsCancellationRequested)
                {
                    // The device may have said why before it closed: its error is the one to report.
                    await Task.WhenAny(reading, Task.Delay(_options.Timeout, cancel));
                    if (!reading.IsCompleted)
                        throw;
                    break;
                }
                offset += frame;
            }
            return await upload.WaitForEndAsync(reading, _options.Timeout, cancel);
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await reading;
            }
            catch (Exception e) when (e is WsCoreException or OperationCanceledException)
            {
                // Its outcome was taken above, or the update ends another way.
            }
        }
    }

    /// <summary>Sends <c>confirm</c> for <paramref name="image"/> with this connection's nonce; waits for
    /// <c>confirmed</c>.</summary>
    public async Task ConfirmAsync(OtaImage image, byte[] key, string name, OtaClient client,
        CancellationToken cancel)
    {
        var auth = OtaAuth.Confirm(key, Hello.Nonce, image.ElfSha256);
        await _client.SendAsync(MessageType.Text, OtaMessages.Confirm(image.Version, image.ElfSha256, auth), cancel);
        var answer = await ReceiveAsync(_client, _options.Timeout, "the answer to confirm", cancel);
        if (answer.Type == OtaMessageType.Error)
        {
            client.Report(new OtaEvent(OtaEventKind.Error, name) { Code = answer.Text, Detail = answer.Message });
            throw OtaClient.Refusal(answer.Text!,
                $"the device refused the confirmation: {answer.Message ?? answer.Text}");
        }
        if (answer.Type != OtaMessageType.Confirmed)
            throw ProtocolError(_client, $"it answered confirm with {Name(answer.Type)}, not confirmed");
    }

    public async ValueTask DisposeAsync()
    {
        // A device that restarts closes with 1001 first; ours answers it, or says we are done.
        await _client.CloseAsync(CloseStatus.NormalClosure, "", CancellationToken.None);
    }

    internal static async Task<OtaDeviceMessage> ReceiveAsync(WebSocketClient client, TimeSpan timeout, string what,
        CancellationToken cancel)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        WebSocketMessage? message;
        try
        {
            message = await client.ReceiveAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new OtaException(OtaOutcome.Failed, FailureKind.Timeout,
                $"the device sent no {what} within {OtaClient.Format(timeout)}");
        }
        if (message is null)
            throw new OtaException(OtaOutcome.Failed, FailureKind.ConnectionEnded,
                $"the device closed the connection ({CloseStatus.Phrase(client.CloseStatus ?? 1005,
                    client.CloseReason)}) before {what}");
        using (message)
            return Parse(client, message);
    }

    internal static OtaDeviceMessage Parse(WebSocketClient client, WebSocketMessage message)
    {
        if (message.Type != MessageType.Text)
            throw ProtocolError(client, $"it sent a binary message of {message.Payload.Length} bytes");
        try
        {
            return OtaMessages.Parse(message.Payload.Span);
        }
        catch (FormatException e)
        {
            throw ProtocolError(client, $"it sent a message wsctl-ota.1 does not have: {e.Message}");
        }
    }

    /// <summary>A message the protocol does not allow here: the connection ends with 1002 (§1 of the spec).</summary>
    internal static OtaException ProtocolError(WebSocketClient client, string words)
    {
        _ = client.CloseAsync(CloseStatus.ProtocolError, "wsctl-ota.1 violation", CancellationToken.None);
        return new OtaException(OtaOutcome.Failed, FailureKind.ConnectionEnded,
            $"the device broke wsctl-ota.1: {words}");
    }

    internal static string Name(OtaMessageType type) => type.ToString().ToLowerInvariant();
}
