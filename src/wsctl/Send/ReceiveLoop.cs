using System.Text.RegularExpressions;
using Serilog;
using WsCore;
using WsCore.WebSockets.Client;
using WsCore.WebSockets.Protocol;

namespace Wsctl.Send;

/// <summary>
/// Reads every message of a <c>send</c> connection from the handshake until the connection ends: prints each as it
/// arrives (with --quiet only those the wait asked for), counts them, and completes <see cref="Satisfied"/> when the
/// wait's condition is met. <see cref="Ended"/> completes, never faulting, when the connection has ended, and
/// <see cref="Failure"/> then says whether it ended abnormally. Nothing here waits without end: the loop ends with
/// the connection, which every caller closes or aborts.
/// </summary>
public sealed class ReceiveLoop
{
    /// <summary>How long matching --wait-for's pattern against one message may take (a backtracking pattern).</summary>
    public static readonly TimeSpan MatchTimeLimit = TimeSpan.FromSeconds(1);

    private readonly WebSocketClient _client;
    private readonly SendWait _wait;
    private readonly ReceivedPrinter _printer;
    private readonly bool _quiet;
    private readonly ILogger _log;
    private readonly TaskCompletionSource _satisfied = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _received;

    private ReceiveLoop(WebSocketClient client, SendWait wait, ReceivedPrinter printer, bool quiet, ILogger log)
    {
        _client = client;
        _wait = wait;
        _printer = printer;
        _quiet = quiet;
        _log = log;
        Ended = Task.CompletedTask;
    }

    /// <summary>Completes when the connection has ended (never faults).</summary>
    public Task Ended { get; private set; }

    /// <summary>Completes when the wait's condition is met (a count reached, a match seen).</summary>
    public Task Satisfied => _satisfied.Task;

    /// <summary>Messages received so far.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>Once <see cref="Ended"/>: how the connection failed, or null when it closed normally.</summary>
    public WsCoreException? Failure { get; private set; }

    public static ReceiveLoop Start(
        WebSocketClient client, SendWait wait, ReceivedPrinter printer, bool quiet, ILogger log)
    {
        var loop = new ReceiveLoop(client, wait, printer, quiet, log);
        if (wait.Kind == WaitKind.Count && wait.Count == 0)
            loop._satisfied.TrySetResult();
        loop.Ended = Task.Run(loop.RunAsync);
        return loop;
    }

    private async Task RunAsync()
    {
        try
        {
            // The client's queue completes when the connection ends: null after a normal close, an exception after
            // anything else. No token: the end of the connection is what ends this loop.
            while (await _client.ReceiveAsync() is { } message)
            {
                using (message)
                    Take(message);
            }
        }
        catch (WsCoreException e)
        {
            Failure = e;
        }
        catch (RegexMatchTimeoutException)
        {
            // The pattern, not the connection, failed: the session closes the connection with this as the reason.
            Failure = new WsCoreException(FailureKind.InvalidInput,
                $"--wait-for: matching /{_wait.Pattern}/ against a message took over {Cli.Duration.Format(
                    MatchTimeLimit)}",
                "the pattern backtracks without end on such messages (nested quantifiers like (a+)+ in a pattern " +
                "the linear engine cannot run: a backreference, a lookaround, or a large counted repeat): simplify it");
        }
    }

    private void Take(WebSocketMessage message)
    {
        var count = Interlocked.Increment(ref _received);
        var asked = false;
        if (!Satisfied.IsCompleted)
        {
            asked = _wait.Kind switch
            {
                WaitKind.Count => count <= _wait.Count,
                WaitKind.Match => _wait.Pattern!.IsMatch(message.Type == MessageType.Text
                    ? message.GetText()
                    : Convert.ToBase64String(message.Payload.Span)),
                // A wait for a time or for the server's close asks for whatever arrives: with -q it is still printed
                // (`send --listen -q` is a stream of messages and no logs, not silence).
                WaitKind.Time or WaitKind.Listen => true,
                _ => false,
            };
            if (asked && (_wait.Kind == WaitKind.Match || count == _wait.Count))
                _satisfied.TrySetResult();
        }
        if (asked || !_quiet)
            _printer.Print(message.Type, message.Payload.Span);
        else
            _log.Debug("Received a {Type} message of {Bytes} bytes (not printed: --quiet)", message.Type,
                message.Payload.Length);
    }
}
