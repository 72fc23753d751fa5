using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Serilog;
using WsCore;
using WsCore.Control;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;
using Wsctl.Cli;

namespace Wsctl.Send;

/// <summary>What <c>wsctl send</c> was asked to do.</summary>
/// <param name="Timeout">Bounds connect + handshake, the wait for messages, and the close (each).</param>
/// <param name="WholeRunLimit">When --timeout was given: the whole run, stdin included, must finish within it.</param>
public sealed record SendSettings(
    Uri Target,
    Outgoing Messages,
    int WaitCount,
    Regex? WaitFor,
    TimeSpan Timeout,
    TimeSpan? WholeRunLimit,
    bool Json,
    WebSocketClientOptions ClientOptions);

/// <summary>
/// Runs <c>wsctl send</c> against a WebSocket server: connect, send, optionally wait for replies, close with 1000.
/// Every failure ends as a <see cref="WsCoreException"/> whose kind is the exit code; with --json a result line says
/// the same on stdout.
/// </summary>
public static class SendSession
{
    public static async Task<ExitCode> RunAsync(
        SendSettings settings, ILogger log, Stream stdout, CancellationToken cancel)
    {
        var started = Stopwatch.GetTimestamp();
        var json = settings.Json ? new JsonLines(stdout) : null;
        var printer = new ReceivedPrinter(stdout, json);
        var sent = 0;
        var received = 0;
        using var whole = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (settings.WholeRunLimit is { } limit)
            whole.CancelAfter(limit);
        var resolving = new ResolveWatch();
        settings.ClientOptions.Resolve = resolving.Wrap(settings.ClientOptions.Resolve);
        try
        {
            var waiting = settings.WaitCount > 0 || settings.WaitFor is not null;
            settings.ClientOptions.ConnectTimeout = settings.Timeout;
            settings.ClientOptions.Logger = log;
            // Without --wait nobody reads what the server pushes (a device's counter): drop it rather than stop
            // reading, so pings are answered and a close is seen however long stdin stays open.
            settings.ClientOptions.DropUnreadMessages = !waiting;
            await using var client = await WebSocketClient.ConnectAsync(
                settings.Target, settings.ClientOptions, whole.Token);
            log.Debug(
                "Connected to {Target} ({Remote}), subprotocol {Subprotocol}",
                settings.Target,
                client.RemoteEndPoint,
                client.Subprotocol);

            using var receiving = CancellationTokenSource.CreateLinkedTokenSource(whole.Token);
            var receiver = waiting
                ? ReceiveAsync(client, settings, printer, () => received++, log, receiving.Token)
                : Task.CompletedTask;

            // Each stdin line is awaited against the server ending the connection and against --timeout: a read
            // of an idle stdin cannot be cancelled, so it is left behind rather than waited for.
            var messages = settings.Messages.ReadAsync(whole.Token).GetAsyncEnumerator(whole.Token);
            while (true)
            {
                var next = messages.MoveNextAsync().AsTask();
                var first = await Task.WhenAny(
                    next, client.Completion, receiver.IsCompleted ? next : receiver).WaitAsync(whole.Token);
                if (first != next)
                {
                    if (waiting)
                        await receiver; // the receiver's error says how the connection ended
                    await ThrowServerEndedAsync(client, sent);
                }
                if (!await next)
                    break;
                await client.SendAsync(settings.Messages.Type, messages.Current, whole.Token);
                sent++;
            }
            log.Debug("Sent {Count} message(s); {Dropped} received unread", sent, client.MessagesDropped);

            if (waiting)
            {
                receiving.CancelAfter(settings.Timeout);
                await receiver;
            }
            using var closing = CancellationTokenSource.CreateLinkedTokenSource(whole.Token);
            closing.CancelAfter(settings.Timeout);
            await client.CloseAsync(CloseStatus.NormalClosure, "", closing.Token);
            if (client.CloseStatus is { } code && code is not (CloseStatus.NormalClosure or CloseStatus.GoingAway))
                throw new WsCoreException(
                    FailureKind.ConnectionEnded, $"the server closed with {code} {client.CloseReason}".TrimEnd());
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            var error = resolving.CutOff(settings.WholeRunLimit ?? settings.Timeout)
                ?? new WsCoreException(FailureKind.Timeout,
                $"timed out after {Duration.Format(settings.WholeRunLimit ?? settings.Timeout)} " +
                (sent == 0 ? "before the first message was sent" : $"waiting for {Awaited(settings, received)}"),
                "raise --timeout, or check that the server answers");
            WriteResult(json, settings.Target, started, sent, received, error);
            throw error;
        }
        catch (WsCoreException error)
        {
            WriteResult(json, settings.Target, started, sent, received, error);
            throw;
        }
        WriteResult(json, settings.Target, started, sent, received, null);
        return ExitCode.Ok;
    }

    /// <summary>
    /// The server ended the connection while stdin was still open: how it did, as the exit code says.
    /// </summary>
    private static async Task ThrowServerEndedAsync(WebSocketClient client, int sent)
    {
        // A protocol error or a vanished TCP connection comes out of the receive queue as the client's failure.
        while (await client.ReceiveAsync() is { } unread)
            unread.Dispose();
        throw new WsCoreException(FailureKind.ConnectionEnded,
            $"the server closed the connection ({client.CloseStatus} {client.CloseReason}".TrimEnd()
                + $") after {sent} message(s), with stdin still open",
            "the server (or device) ended the session: check its log");
    }

    private static string Awaited(SendSettings settings, int received) => settings.WaitFor is not null
        ? $"a message matching /{settings.WaitFor}/"
        : $"{settings.WaitCount - received} more message(s)";

    private static async Task ReceiveAsync(WebSocketClient client, SendSettings settings, ReceivedPrinter printer,
        Action counted, ILogger log, CancellationToken cancel)
    {
        var received = 0;
        while (true)
        {
            using var message = await client.ReceiveAsync(cancel);
            if (message is null)
            {
                throw new WsCoreException(FailureKind.ConnectionEnded,
                    $"the server closed the connection ({client.CloseStatus} {client.CloseReason}".TrimEnd() +
                    $") before {Awaited(settings, received)} came");
            }
            received++;
            counted();
            if (settings.WaitFor is null)
            {
                printer.Print(message.Type, message.Payload.Span);
                if (received >= settings.WaitCount)
                    return;
                continue;
            }
            var text = message.Type == MessageType.Text
                ? message.GetText()
                : Convert.ToBase64String(message.Payload.Span);
            if (settings.WaitFor.IsMatch(text))
            {
                printer.Print(message.Type, message.Payload.Span);
                return;
            }
            log.Debug("Received (not matching): {Text}", text);
        }
    }

    private static void WriteResult(
        JsonLines? json, Uri target, long started, int sent, int received, WsCoreException? error)
    {
        json?.Write(w =>
        {
            w.WriteString("type", "result");
            w.WriteString("target", target.ToString());
            w.WriteBoolean("ok", error is null);
            w.WriteNumber("sent", sent);
            w.WriteNumber("received", received);
            w.WriteNumber("ms", Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1));
            if (error is not null)
            {
                w.WriteNumber("exit", (int)ExitCodes.From(error.Kind));
                w.WriteString("error", error.Message);
            }
        });
    }

    /// <summary><c>wsctl send --client ID</c>: through serve's control socket, to one of its clients.</summary>
    public static async Task<ExitCode> ToServeClientAsync(int port, int clientId, Outgoing messages, bool jsonOutput,
        Stream stdout, CancellationToken cancel)
    {
        await using var control = await ControlClient.ConnectAsync(port, cancel);
        var sent = 0;
        await foreach (var message in messages.ReadAsync(cancel))
        {
            var answer = await control.RequestAsync(
                new ControlRequest(ControlOperation.Send, clientId, message, messages.Type == MessageType.Binary),
                cancel);
            // No such client is the caller's mistake (a wrong id), so a usage error like any other bad argument.
            if (!answer.Ok)
                throw new WsCoreException(FailureKind.InvalidInput, answer.Error ?? "the server refused the message",
                    $"wsctl broadcast --list --port {port} shows the connected clients");
            sent++;
        }
        if (jsonOutput)
            new JsonLines(stdout).Write(w =>
            {
                w.WriteString("type", "result");
                w.WriteBoolean("ok", true);
                w.WriteNumber("client", clientId);
                w.WriteNumber("sent", sent);
            });
        else
            stdout.Write(Encoding.UTF8.GetBytes($"sent {sent} message(s) to client {clientId}\n"));
        return ExitCode.Ok;
    }
}
