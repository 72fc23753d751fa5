using System.CommandLine;

namespace Wsctl.Send;

/// <summary>
/// The options that say what <c>send</c> and <c>broadcast</c> send besides MESSAGE: a binary stdin or file, or MESSAGE
/// as hex or base64. One definition, so both verbs take and explain them the same way.
/// </summary>
public sealed class MessageOptions
{
    public Option<bool> Binary { get; } = new("--binary")
    {
        Description = "Send stdin (or --file) whole, as one binary message."
    };

    public Option<string?> File { get; } = new("--file")
    {
        Description = "Send this file as one binary message.",
        HelpName = "FILE"
    };

    public Option<bool> Hex { get; } = new("--hex")
    {
        Description = "MESSAGE is hex; send the bytes as a binary message."
    };

    public Option<bool> Base64 { get; } = new("--base64")
    {
        Description = "MESSAGE is base64; send the bytes as a binary message."
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Binary);
        command.Options.Add(File);
        command.Options.Add(Hex);
        command.Options.Add(Base64);
    }

    /// <summary>Whether stdin is read whole (--binary) or not read at all (--file) rather than as lines.</summary>
    public bool ReadsStdinWhole(ParseResult parse) => parse.GetValue(Binary) || parse.GetValue(File) is not null
        || parse.GetValue(Hex) || parse.GetValue(Base64);

    /// <summary>The messages to send, given MESSAGE (null or '-' for stdin).</summary>
    public Outgoing Read(ParseResult parse, string? message) => Outgoing.FromArguments(message, parse.GetValue(Binary),
        parse.GetValue(File), parse.GetValue(Hex), parse.GetValue(Base64), Console.OpenStandardInput);
}
