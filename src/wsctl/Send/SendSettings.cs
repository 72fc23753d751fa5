using System.Text.RegularExpressions;
using WsCore.WebSockets.Client;

namespace Wsctl.Send;

/// <summary>What <c>send</c> waits for once everything is sent.</summary>
public enum WaitKind
{
    /// <summary>Nothing: close at once (what arrived meanwhile was printed).</summary>
    None,
    /// <summary>Until <see cref="SendWait.Count"/> messages arrived, counted from the connection's start.</summary>
    Count,
    /// <summary>Until a message matches <see cref="SendWait.Pattern"/>.</summary>
    Match,
    /// <summary>For <see cref="SendWait.Time"/>, printing what arrives (wscat's <c>-w</c>).</summary>
    Time,
    /// <summary>Until the peer closes.</summary>
    Listen,
}

/// <summary>
/// The wait after sending: <c>--wait N</c>, <c>--wait DURATION</c>, <c>--wait-for</c> or <c>--listen</c>.
/// </summary>
public sealed record SendWait(WaitKind Kind, int Count = 0, Regex? Pattern = null, TimeSpan Time = default)
{
    public static readonly SendWait None = new(WaitKind.None);

    /// <summary>What is still awaited, for messages: "2 more message(s)", "a message matching /ok/".</summary>
    public string Describe(int received) => Kind switch
    {
        WaitKind.Count => $"{Count - received} more message(s)",
        WaitKind.Match => $"a message matching /{Pattern}/",
        WaitKind.Time => $"the end of the {Cli.Duration.Format(Time)} wait",
        WaitKind.Listen => "the server to close",
        _ => "nothing",
    };
}

/// <summary>How received messages are shown.</summary>
public enum ReceivedStyle
{
    /// <summary>One line each, control characters escaped (<see cref="Cli.TerminalText"/>).</summary>
    Plain,
    /// <summary>One line each, the bytes as they came (<c>--raw</c>).</summary>
    Raw,
    /// <summary>One JSON object each (<c>--json</c>).</summary>
    Json,
}

/// <summary>What <c>wsctl send</c> was asked to do.</summary>
/// <param name="Timeout">Bounds connect + handshake, the wait for messages, and the close (each).</param>
/// <param name="WholeRunLimit">When --timeout was given: the whole run, stdin included, must finish within it.</param>
/// <param name="Quiet">Print only the messages the wait asked for (--quiet).</param>
/// <param name="Interactive">Read lines from the terminal with editing, show messages as they arrive.</param>
public sealed record SendSettings(
    Uri Target,
    Outgoing Messages,
    SendWait Wait,
    TimeSpan Timeout,
    TimeSpan? WholeRunLimit,
    ReceivedStyle Style,
    bool Quiet,
    bool Interactive,
    WebSocketClientOptions ClientOptions);
