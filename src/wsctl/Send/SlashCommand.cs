using System.Globalization;
using WsCore.WebSockets.Protocol;

namespace Wsctl.Send;

/// <summary>What a line typed in an interactive <c>send</c> asks for.</summary>
public enum SlashCommandKind
{
    /// <summary>Send <see cref="SlashCommand.Text"/> as a text message.</summary>
    Message,
    /// <summary>Send a Ping (<see cref="SlashCommand.Text"/>: a label shown with the pong).</summary>
    Ping,
    /// <summary>Close with <see cref="SlashCommand.Code"/> and reason <see cref="SlashCommand.Text"/>.</summary>
    Close,
    /// <summary>Show <see cref="SlashCommand.Text"/> (help, or what was wrong with the command).</summary>
    Show,
}

/// <summary>
/// The commands of an interactive <c>send</c>, as wscat's <c>--slash</c> has them: <c>/ping [LABEL]</c>,
/// <c>/close [CODE [REASON]]</c>, <c>/help</c>. Any other line is a message; <c>//text</c> sends <c>/text</c>.
/// </summary>
public readonly record struct SlashCommand(SlashCommandKind Kind, string Text = "", ushort Code = 1000)
{
    public const string Help = "/ping [LABEL]  send a ping and show the pong's round trip;  " +
        "/close [CODE [REASON]]  close (1000 unless CODE);  //TEXT  send /TEXT;  Ctrl-D  close with 1000 and exit";

    public static SlashCommand Parse(string line)
    {
        if (!line.StartsWith('/'))
            return new(SlashCommandKind.Message, line);
        if (line.StartsWith("//", StringComparison.Ordinal))
            return new(SlashCommandKind.Message, line[1..]);
        var parts = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        switch (parts[0])
        {
            case "/ping":
                return new(SlashCommandKind.Ping, line.Length > 6 ? line[6..] : "");
            case "/close":
                if (parts.Length == 1)
                    return new(SlashCommandKind.Close);
                // RFC 6455 §7.4: only codes that may be sent on the wire, and a reason that fits a control frame.
                if (!ushort.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code)
                    || !CloseStatus.IsValidOnWire(code))
                    return new(SlashCommandKind.Show,
                        $"/close: expected a close code 1000-1003, 1007-1014 or 3000-4999, got '{parts[1]}'");
                var reason = parts.Length > 2 ? parts[2] : "";
                if (System.Text.Encoding.UTF8.GetByteCount(reason) > FrameHeader.MaxControlPayload - 2)
                    return new(SlashCommandKind.Show,
                        $"/close: the reason may be at most {FrameHeader.MaxControlPayload - 2} bytes");
                return new(SlashCommandKind.Close, reason, code);
            case "/help":
                return new(SlashCommandKind.Show, Help);
            default:
                return new(SlashCommandKind.Show, $"unknown command {parts[0]}; {Help}");
        }
    }
}
