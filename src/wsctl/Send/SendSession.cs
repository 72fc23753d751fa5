using System.Diagnostics;
using Serilog;
using WsCore;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;
using Wsctl.Cli;

namespace Wsctl.Send;

/// <summary>
/// Runs <c>wsctl send</c> against a WebSocket server: connect, send (MESSAGE, stdin's lines, or what is typed at the
/// prompt), print what arrives meanwhile, wait as asked, close with 1000. Every wait is bounded by the connection's
/// end, the run's deadline and Ctrl-C, so the verb always ends. Every failure ends as a
/// <see cref="WsCoreException"/> whose kind is the exit code; with --json a final result object says the same on
/// stdout, on every way out (Ctrl-C included).
/// </summary>
public sealed class SendSession
{
    // After Ctrl-C: how long the Close 1001 may take before the connection is simply dropped.
    private static readonly TimeSpan InterruptCloseLimit = TimeSpan.FromSeconds(1);

    private readonly SendSettings _settings;
    private readonly ILogger _log;
    private readonly JsonLines? _json;
    private readonly TerminalPrompt? _prompt;
    private readonly ReceivedPrinter _printer;
    // Cancelled once stdout's reader has gone (`send --listen | head -1`): see OutputGoneAsync.
    private readonly CancellationToken _readerGone;
    private readonly long _started = Stopwatch.GetTimestamp();
    private WebSocketClient? _client;
    private ReceiveLoop? _receiving;
    private int _sent;
    private string _phase = "connecting";
    // Ctrl-C alone, apart from the whole run's deadline that the steps' tokens also carry.
    private CancellationToken _interrupted;

    private SendSession(SendSettings settings, ILogger log, WatchedOutput stdout)
    {
        _readerGone = stdout.ReaderGone;
        _settings = settings;
        _log = log;
        _json = settings.Style == ReceivedStyle.Json ? new JsonLines(stdout) : null;
        _prompt = settings.Interactive ? new TerminalPrompt(stdout) : null;
        _printer = new ReceivedPrinter(stdout, settings.Style, _json, _prompt);
    }

    public static async Task<ExitCode> RunAsync(
        SendSettings settings, ILogger log, WatchedOutput stdout, CancellationToken cancel)
    {
        var session = new SendSession(settings, log, stdout);
        try
        {
            return await session.RunAsync(cancel);
        }
        finally
        {
            session._prompt?.Dispose();
        }
    }

    private async Task<ExitCode> RunAsync(CancellationToken cancel)
    {
        _interrupted = cancel;
        using var whole = CancellationTokenSource.CreateLinkedTokenSource(cancel, _readerGone);
        if (_settings.WholeRunLimit is { } limit)
            whole.CancelAfter(limit);
        var resolving = new ResolveWatch();
        var options = _settings.ClientOptions;
        options.Resolve = resolving.Wrap(options.Resolve);
        options.ConnectTimeout = _settings.Timeout;
        options.CloseTimeout = _settings.Timeout;
        options.Logger = _log;
        try
        {
            _client = await WebSocketClient.ConnectAsync(_settings.Target, options, whole.Token);
            _log.Debug("Connected to {Target} ({Remote}), subprotocol {Subprotocol}",
                _settings.Target, _client.RemoteEndPoint, _client.Subprotocol);
            // A session typed at a terminal exists to show what arrives: there -q quiets the logs only.
            _receiving = ReceiveLoop.Start(_client, _settings.Wait, _printer,
                _settings.Quiet && !_settings.Interactive, _log);
            _prompt?.Start();
            _phase = "with input still to send";
            var open = _settings.Interactive ? await SendTypedAsync(whole.Token) : await SendAllAsync(whole.Token);
            if (open && await WaitAsync(whole.Token))
                await CloseAsync(whole.Token);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await AbandonAsync();
            var interrupted = new WsCoreException(FailureKind.Interrupted, "interrupted");
            WriteResult(interrupted);
            throw interrupted;
        }
        catch (OperationCanceledException) when (_readerGone.IsCancellationRequested)
        {
            return await OutputGoneAsync();
        }
        catch (OperationCanceledException)
        {
            await AbandonAsync();
            var limitHit = _settings.WholeRunLimit ?? _settings.Timeout;
            var error = resolving.CutOff(limitHit)
                ?? new WsCoreException(FailureKind.Timeout,
                    $"timed out after {Duration.Format(limitHit)} {_phase}",
                    "raise --timeout, or check that the server answers");
            WriteResult(error);
            throw error;
        }
        catch (WsCoreException error)
        {
            await AbandonAsync();
            WriteResult(error);
            throw;
        }
        finally
        {
            if (_client is not null)
                await _client.DisposeAsync();
        }
        WriteResult(null);
        return ExitCode.Ok;
    }

    // Sends MESSAGE or stdin's lines; false when the connection ended meanwhile in a way that needs no close.
    private async Task<bool> SendAllAsync(CancellationToken cancel)
    {
        // A read of an idle stdin cannot be cancelled: each one is awaited against the connection's end and the
        // deadline, and left behind when one of those comes first.
        var messages = _settings.Messages.ReadAsync(cancel).GetAsyncEnumerator(cancel);
        Task<bool>? next = null;
        try
        {
            while (true)
            {
                next = messages.MoveNextAsync().AsTask();
                if (await Task.WhenAny(next, _receiving!.Ended).WaitAsync(cancel) != next)
                    return await EndedWhileSendingAsync(null);
                if (!await next)
                    return true;
                if (await TrySendAsync(_settings.Messages.Type, messages.Current, cancel) is { } failed)
                    return await EndedWhileSendingAsync(failed);
            }
        }
        finally
        {
            // An async iterator cannot be disposed while a read is pending: that read is left behind, as above.
            if (next is null || next.IsCompleted)
                await messages.DisposeAsync();
        }
    }

    // Interactive: each line typed is sent (or is a /command) until Ctrl-D; false as for SendAllAsync.
    private async Task<bool> SendTypedAsync(CancellationToken cancel)
    {
        _printer.Note($"connected to {_settings.Target} (Ctrl-D or /close to end, /help for commands)");
        while (true)
        {
            var next = _prompt!.ReadLineAsync(cancel).AsTask();
            if (await Task.WhenAny(next, _receiving!.Ended).WaitAsync(cancel) != next)
                return await EndedWhileSendingAsync(null);
            if (await next is not { } line)
                return true;
            var command = SlashCommand.Parse(line);
            switch (command.Kind)
            {
                case SlashCommandKind.Message:
                    var text = System.Text.Encoding.UTF8.GetBytes(command.Text);
                    if (await TrySendAsync(MessageType.Text, text, cancel) is { } failed)
                        return await EndedWhileSendingAsync(failed);
                    break;
                case SlashCommandKind.Ping:
                    _ = PingAsync(command.Text, cancel);
                    break;
                case SlashCommandKind.Close:
                    await CloseAsync(cancel, command.Code, command.Text);
                    return false;
                default:
                    _printer.Note(command.Text);
                    break;
            }
        }
    }

    // One step of the session (a ping, the wait, the close), bounded by --timeout as well as by the run's own
    // cancellation (Ctrl-C, or --timeout on the whole run).
    private CancellationTokenSource StepLimit(CancellationToken cancel)
    {
        var step = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        step.CancelAfter(_settings.Timeout);
        return step;
    }

    private async Task PingAsync(string label, CancellationToken cancel)
    {
        using var step = StepLimit(cancel);
        try
        {
            var rtt = await _client!.PingAsync(step.Token);
            _printer.Note($"pong{(label.Length > 0 ? $" ({label})" : "")} after {rtt.TotalMilliseconds:0.###} ms");
        }
        catch (OperationCanceledException)
        {
            _printer.Note($"no pong within {Duration.Format(_settings.Timeout)}");
        }
        catch (WsCoreException e)
        {
            _printer.Note($"ping failed: {e.Message}");
        }
    }

    // Null when sent; the failure when the connection ended before or during the send.
    private async Task<Exception?> TrySendAsync(
        MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancel)
    {
        try
        {
            await _client!.SendAsync(type, payload, cancel);
            _sent++;
            return null;
        }
        catch (Exception e) when (e is WsCoreException or IOException)
        {
            _log.Debug("Send failed: {Error}", e.Message);
            return e;
        }
    }

    // stdout's reader has gone, as `| head -1` or `| grep -m1` leave once they have what they wanted: whatever was
    // asked for, nobody can see it any more. The connection is closed with 1000 (this client is done), and the exit
    // is 0 with no message, as ripgrep ends on a closed pipe: a pipeline under `set -o pipefail` takes the verdict of
    // the reader that chose to stop, not a failure of ours.
    private async Task<ExitCode> OutputGoneAsync()
    {
        _log.Debug("stdout was closed by its reader; closing the connection");
        if (_client is { IsClosed: false } client)
        {
            try
            {
                using var limit = new CancellationTokenSource(InterruptCloseLimit);
                await client.CloseAsync(CloseStatus.NormalClosure, "", limit.Token);
            }
            catch (Exception e) when (e is WsCoreException or OperationCanceledException or IOException)
            {
                _log.Debug("Close after stdout closed: {Error}", e.Message);
            }
        }
        return ExitCode.Ok;
    }

    // The connection ended while there was still input to send: how it ended decides the exit code. A normal close
    // is the expected end of --listen and of an interactive session, and fine once the wait was satisfied.
    private async Task<bool> EndedWhileSendingAsync(Exception? sendFailure)
    {
        var client = _client!;
        // A failed send means the connection is ending: the receive loop sees how within moments (bounded anyway).
        if (sendFailure is not null
            && await Task.WhenAny(_receiving!.Ended, Task.Delay(_settings.Timeout)) != _receiving.Ended)
            throw sendFailure as WsCoreException ?? new WsCoreException(FailureKind.ConnectionEnded,
                $"the connection to {_settings.Target} failed: {sendFailure.Message}");
        if (_receiving!.Failure is { } failure)
            throw failure;
        if (_settings.Interactive || _settings.Wait.Kind == WaitKind.Listen || _receiving.Satisfied.IsCompleted)
        {
            NoteClosed();
            return false;
        }
        throw new WsCoreException(FailureKind.ConnectionEnded,
            $"the server closed the connection {Closed(client)} after {_sent} message(s), " +
            (_settings.Messages.IsSingle ? "before the message was sent" : "with input still to send"),
            "the server (or device) ended the session: check its log");
    }

    // The wait after sending; false when the connection ended during it in a way that needs no close.
    private async Task<bool> WaitAsync(CancellationToken cancel)
    {
        var receiving = _receiving!;
        var wait = _settings.Wait;
        _phase = $"waiting for {wait.Describe(receiving.Received)}";
        switch (wait.Kind)
        {
            case WaitKind.Count or WaitKind.Match:
                using (var step = StepLimit(cancel))
                {
                    _phase = $"waiting for {wait.Describe(receiving.Received)}";
                    await Task.WhenAny(receiving.Satisfied, receiving.Ended).WaitAsync(step.Token);
                }
                if (receiving.Satisfied.IsCompleted)
                    return true;
                throw receiving.Failure ?? new WsCoreException(FailureKind.ConnectionEnded,
                    $"the server closed the connection {Closed(_client!)} before " +
                    $"{wait.Describe(receiving.Received)} came");
            case WaitKind.Time:
                await Task.WhenAny(Task.Delay(wait.Time, cancel), receiving.Ended);
                cancel.ThrowIfCancellationRequested();
                return !AcceptEnd(receiving);
            case WaitKind.Listen:
                await receiving.Ended.WaitAsync(cancel);
                return !AcceptEnd(receiving);
            default:
                return true;
        }
    }

    // True when the connection has ended normally (a failure is thrown).
    private bool AcceptEnd(ReceiveLoop receiving)
    {
        if (!receiving.Ended.IsCompleted)
            return false;
        if (receiving.Failure is { } failure)
            throw failure;
        NoteClosed();
        return true;
    }

    private async Task CloseAsync(CancellationToken cancel, ushort code = CloseStatus.NormalClosure,
        string reason = "")
    {
        _phase = "waiting for the server's answer to the close";
        // The wait for the answer is the client's close timeout (--timeout); the step also bounds writing the Close
        // to a server that stopped reading. A server that never answers is not a failure (what was sent was
        // delivered), but the run took the whole wait longer than it needed to, and says why. The same holds when
        // the whole run's deadline (--timeout given) is what cut the wait short: exit 0 and the warning, not a
        // timeout, since nothing that was asked for is missing; and when the server ends TCP (FIN or reset) instead
        // of answering, which used to pass without a word.
        bool ended;
        using (var step = StepLimit(cancel))
        {
            ended = await _client!.CloseAsync(code, reason, step.Token);
        }
        if (_client.CloseStatus is null && !_interrupted.IsCancellationRequested)
        {
            if (!ended)
                _log.Warning("The server did not answer the close within {Timeout}; ended the connection without its "
                    + "answer (--timeout sets how long to wait)", Duration.Format(_settings.Timeout));
            else
                _log.Warning("The server ended the connection without answering the close (no Close frame came: an "
                    + "abnormal closure, 1006 in RFC 6455 §7.1.5)");
        }
        // What arrived before the server's Close is printed before the result; the connection is released by now,
        // so the receiving ends at once (bounded by Ctrl-C and a step, not by the deadline that may just have
        // passed).
        using var printed = StepLimit(_interrupted);
        await _receiving!.Ended.WaitAsync(printed.Token);
        if (_client.CloseStatus is not null)
            NoteClosed();
        _client.ThrowIfClosedAbnormally();
    }

    // Ends the connection on the way out of a failure or Ctrl-C: a Close 1001 if it is still open (bounded), so the
    // server sees a going-away client rather than a vanished one.
    private async Task AbandonAsync()
    {
        if (_client is null || _client.IsClosed)
            return;
        try
        {
            using var limit = new CancellationTokenSource(InterruptCloseLimit);
            await _client.CloseAsync(CloseStatus.GoingAway, "", limit.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or WsCoreException or IOException)
        {
            _log.Debug("Close on the way out failed: {Error}", e.Message);
        }
    }

    private void NoteClosed()
    {
        if (_client?.CloseStatus is { } code)
            _printer.Note($"closed {CloseStatus.Phrase(code, _client.CloseReason)}" +
                (_client.ClosedByServer ? " by the server" : ""));
    }

    private static string Closed(WebSocketClient client) => client.CloseStatus is { } code
        ? CloseStatus.Phrase(code, client.CloseReason)
        : "without a close frame (1006)";

    private void WriteResult(WsCoreException? error)
    {
        var client = _client;
        _json?.WriteResult(error is null ? ExitCode.Ok : ExitCodes.From(error.Kind), error?.Message, error?.Hint, w =>
        {
            w.WriteString("target", _settings.Target.ToString());
            w.WriteNumber("sent", _sent);
            w.WriteNumber("received", _receiving?.Received ?? 0);
            if (client?.CloseStatus is { } code)
            {
                w.WriteNumber("close_code", code);
                w.WriteString("close_reason", client.CloseReason);
            }
            w.WriteNumber("elapsed_ms", Math.Round(Stopwatch.GetElapsedTime(_started).TotalMilliseconds, 1));
        });
    }
}
