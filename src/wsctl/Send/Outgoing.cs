using System.Text;
using WsCore;
using WsCore.WebSockets.Protocol;

namespace Wsctl.Send;

/// <summary>
/// What <c>send</c> and <c>broadcast</c> send: one message given on the command line or read whole (binary stdin, a
/// file), or stdin's lines, each one text message sent as it arrives.
/// </summary>
public sealed class Outgoing
{
    private readonly byte[]? _single;
    private readonly Func<Stream>? _openLines;

    private Outgoing(MessageType type, byte[]? single, Func<Stream>? openLines)
    {
        Type = type;
        _single = single;
        _openLines = openLines;
    }

    public MessageType Type { get; }

    /// <summary>Whether this is one message given whole (MESSAGE, --file, binary stdin), not stdin's lines.</summary>
    public bool IsSingle => _single is not null;

    public static Outgoing Text(string text) => new(MessageType.Text, Encoding.UTF8.GetBytes(text), null);

    public static Outgoing Binary(byte[] payload) => new(MessageType.Binary, payload, null);

    public static Outgoing Lines(Func<Stream> open) => new(MessageType.Text, null, open);

    /// <summary>No messages at all (listen only).</summary>
    public static readonly Outgoing Nothing = Lines(() => Stream.Null);

    /// <summary>
    /// Builds the messages from the command line: MESSAGE, or stdin when MESSAGE is '-' or absent; --binary sends
    /// stdin (or --file) whole as one binary message; --hex/--base64 decode MESSAGE into a binary message.
    /// </summary>
    /// <exception cref="WsCoreException">InvalidInput, naming the option at fault.</exception>
    public static Outgoing FromArguments(
        string? message, bool binary, string? file, bool hex, bool base64, Func<Stream> openStdin)
    {
        if (hex && base64)
            throw Invalid("--hex and --base64 exclude each other");
        if (file is not null)
        {
            if (message is not null and not "-")
                throw Invalid("give either MESSAGE or --file, not both");
            try
            {
                return Binary(File.ReadAllBytes(file));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new WsCoreException(
                    FailureKind.InvalidInput, $"--file: cannot read {file}: {FileProblem.Describe(file, e)}");
            }
        }
        var fromStdin = message is null or "-";
        if (hex || base64)
        {
            if (fromStdin)
                throw Invalid($"{(hex ? "--hex" : "--base64")} decodes MESSAGE: give it on the command line");
            try
            {
                return Binary(hex
                    ? Convert.FromHexString(message!.Replace(" ", "", StringComparison.Ordinal))
                    : Convert.FromBase64String(message!));
            }
            catch (FormatException)
            {
                throw Invalid($"MESSAGE is not valid {(hex ? "hex" : "base64")}");
            }
        }
        if (binary)
        {
            if (!fromStdin)
                throw Invalid("--binary sends stdin or --file as one binary message; for MESSAGE use --hex or " +
                    "--base64");
            using var stdin = openStdin();
            using var all = new MemoryStream();
            stdin.CopyTo(all);
            return Binary(all.ToArray());
        }
        return fromStdin ? Lines(openStdin) : Text(message!);
    }

    private static WsCoreException Invalid(string message) => new(FailureKind.InvalidInput, message);

    /// <summary>
    /// The messages, in order; stdin lines are yielded as they arrive (without their line ending), each valid until
    /// the next is asked for.
    /// </summary>
    /// <exception cref="WsCoreException">InvalidInput: a stdin line that is not UTF-8 (<see cref="StdinLines"/>).
    /// </exception>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAsync(
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
    {
        if (_single is not null)
        {
            yield return _single;
            yield break;
        }
        await using var lines = new StdinLines(_openLines!());
        while (await lines.ReadLineAsync(cancel) is { } line)
            yield return line;
    }
}
