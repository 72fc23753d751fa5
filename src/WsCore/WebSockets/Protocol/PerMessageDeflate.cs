using System.Text;

namespace WsCore.WebSockets.Protocol;

/// <summary>
/// What a permessage-deflate negotiation agreed (RFC 7692 §7.1), from one endpoint's point of view or the other's:
/// the server's direction (what the server compresses) and the client's.
/// </summary>
/// <param name="ServerNoContextTakeover">The server resets its compressor after every message (§7.1.1.1).</param>
/// <param name="ClientNoContextTakeover">The client resets its compressor after every message (§7.1.1.2).</param>
/// <param name="ServerMaxWindowBits">The largest LZ77 window the server may compress with, 8 to 15 (§7.1.2.1).</param>
/// <param name="ClientMaxWindowBits">The largest LZ77 window the client may compress with, 8 to 15 (§7.1.2.2).</param>
public sealed record DeflateParameters(
    bool ServerNoContextTakeover = false,
    bool ClientNoContextTakeover = false,
    int ServerMaxWindowBits = PerMessageDeflate.MaxWindowBits,
    int ClientMaxWindowBits = PerMessageDeflate.MaxWindowBits);

/// <summary>
/// The permessage-deflate extension's negotiation (RFC 7692 §5, §7.1): the server picks the first acceptable offer
/// of a <c>Sec-WebSocket-Extensions</c> header and answers with legal parameters; the client offers and checks the
/// answer. No I/O.
/// </summary>
public static class PerMessageDeflate
{
    /// <summary>The extension's registered name (§7).</summary>
    public const string Name = "permessage-deflate";

    /// <summary>The smallest window size a peer may name (§7.1.2: 8 to 15).</summary>
    public const int MinWindowBits = 8;

    /// <summary>The largest window size, 32 KiB, and the default when none is named.</summary>
    public const int MaxWindowBits = 15;

    /// <summary>
    /// What wsctl's client offers: the extension with <c>client_max_window_bits</c> and no value, as browsers do,
    /// which tells the server it may ask for a smaller client window (§7.1.2.2). Every window from 8 to 15 can be
    /// honoured (8 by compressing without back references).
    /// </summary>
    public const string ClientOffer = "permessage-deflate; client_max_window_bits";

    /// <summary>True when the system zlib that compression needs can be loaded.</summary>
    public static bool IsSupported => NativeZlib.IsAvailable;

    /// <summary>Native memory zlib holds right now for every compressor and decompressor of the process.</summary>
    public static long NativeBytesInUse => NativeZlib.BytesInUse;

    /// <summary>
    /// The server's side (§5, §7.1): takes the offers of the request's <c>Sec-WebSocket-Extensions</c> values in
    /// order and accepts the first permessage-deflate offer whose parameters are all known, unrepeated and valid;
    /// offers of other extensions and unacceptable offers are declined (left out of the answer, §9.1 of RFC 6455).
    /// Returns the agreed parameters and the response header value, or null when no offer is acceptable.
    /// </summary>
    /// <param name="headerValues">Every <c>Sec-WebSocket-Extensions</c> value of the request, in order.</param>
    /// <param name="response">The value of the response's <c>Sec-WebSocket-Extensions</c> header.</param>
    public static DeflateParameters? Accept(IEnumerable<string> headerValues, out string? response)
    {
        response = null;
        foreach (var value in headerValues)
        {
            if (!TryParseList(value, out var offers))
                return null;
            foreach (var (name, parameters) in offers)
            {
                if (!name.Equals(Name, StringComparison.OrdinalIgnoreCase))
                    continue;
                if (TryReadOffer(parameters) is not { } agreed)
                    continue;
                response = BuildResponse(agreed.Parameters, agreed.EchoServerWindow, agreed.EchoClientWindow);
                return agreed.Parameters;
            }
        }
        return null;
    }

    /// <summary>
    /// The client's side (§7.1): checks the server's <c>Sec-WebSocket-Extensions</c> answer to
    /// <see cref="ClientOffer"/>. Returns null when it is acceptable (then <paramref name="parameters"/> is what was
    /// agreed, or null when the server declined), else what is wrong: the client must then fail the connection.
    /// </summary>
    /// <param name="headerValues">Every <c>Sec-WebSocket-Extensions</c> value of the response.</param>
    /// <param name="offered">Whether permessage-deflate was offered at all.</param>
    /// <param name="parameters">The agreed parameters, or null.</param>
    public static string? CheckResponse(
        IReadOnlyList<string> headerValues, bool offered, out DeflateParameters? parameters)
    {
        parameters = null;
        var extensions = new List<(string Name, List<(string Name, string? Value)> Parameters)>();
        foreach (var value in headerValues)
        {
            if (!TryParseList(value, out var list))
                return "malformed Sec-WebSocket-Extensions in the 101 response";
            extensions.AddRange(list);
        }
        if (extensions.Count == 0)
            return null;
        // RFC 6455 §4.1: an extension the client did not ask for fails the connection.
        if (!offered || extensions.Count > 1 || !extensions[0].Name.Equals(Name, StringComparison.OrdinalIgnoreCase))
            return $"server answered with extension '{extensions[0].Name}', which was not offered";
        var agreed = new DeflateParameters();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in extensions[0].Parameters)
        {
            if (!seen.Add(name))
                return $"permessage-deflate response repeats {name}";
            switch (name.ToLowerInvariant())
            {
                case "server_no_context_takeover" when value is null:
                    agreed = agreed with { ServerNoContextTakeover = true };
                    break;
                case "client_no_context_takeover" when value is null:
                    agreed = agreed with { ClientNoContextTakeover = true };
                    break;
                case "server_max_window_bits" when ParseWindowBits(value) is { } bits:
                    agreed = agreed with { ServerMaxWindowBits = bits };
                    break;
                // §7.1.2.2: allowed because the offer had client_max_window_bits; the answer must carry a value.
                case "client_max_window_bits" when ParseWindowBits(value) is { } bits:
                    agreed = agreed with { ClientMaxWindowBits = bits };
                    break;
                default:
                    return "permessage-deflate response has an invalid parameter: " +
                        (value is null ? name : $"{name}={value}");
            }
        }
        parameters = agreed;
        return null;
    }

    /// <summary>The parameters in the form of a <c>Sec-WebSocket-Extensions</c> response value.</summary>
    public static string Describe(DeflateParameters parameters) => BuildResponse(
        parameters,
        parameters.ServerMaxWindowBits < MaxWindowBits,
        parameters.ClientMaxWindowBits < MaxWindowBits);

    private static string BuildResponse(DeflateParameters agreed, bool echoServerWindow, bool echoClientWindow)
    {
        var text = new StringBuilder(Name);
        if (agreed.ServerNoContextTakeover)
            text.Append("; server_no_context_takeover");
        if (agreed.ClientNoContextTakeover)
            text.Append("; client_no_context_takeover");
        if (echoServerWindow)
            text.Append("; server_max_window_bits=").Append(agreed.ServerMaxWindowBits);
        if (echoClientWindow)
            text.Append("; client_max_window_bits=").Append(agreed.ClientMaxWindowBits);
        return text.ToString();
    }

    // One offer's parameters (§7.1): null when it must be declined. A server is free to decline for its own reasons;
    // these are the RFC's: an unknown parameter, a repeated one, or a value outside the parameter's syntax.
    private static (DeflateParameters Parameters, bool EchoServerWindow, bool EchoClientWindow)? TryReadOffer(
        List<(string Name, string? Value)> parameters)
    {
        var agreed = new DeflateParameters();
        var echoServerWindow = false;
        var echoClientWindow = false;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in parameters)
        {
            if (!seen.Add(name))
                return null;
            switch (name.ToLowerInvariant())
            {
                case "server_no_context_takeover" when value is null:
                    agreed = agreed with { ServerNoContextTakeover = true };
                    break;
                case "client_no_context_takeover" when value is null:
                    // §7.1.1.2: the server may acknowledge it; saying it back makes the answer self-explanatory.
                    agreed = agreed with { ClientNoContextTakeover = true };
                    break;
                case "server_max_window_bits" when ParseWindowBits(value) is { } bits:
                    // §7.1.2.1: accepted only by answering with the same (or a smaller) value, even 15; honoured by
                    // compressing with a window no larger (8: without back references at all).
                    agreed = agreed with { ServerMaxWindowBits = bits };
                    echoServerWindow = true;
                    break;
                case "client_max_window_bits" when value is null:
                    // The client can take a smaller window if asked; wsctl's inflater handles any window, so it
                    // leaves the client at its own choice and says nothing (§7.1.2.2: the answer may omit it).
                    break;
                case "client_max_window_bits" when ParseWindowBits(value) is { } bits:
                    // The client will not use more than this anyway; the answer must not name a larger one. Said
                    // back as is, which §7.1.2.2 allows.
                    agreed = agreed with { ClientMaxWindowBits = bits };
                    echoClientWindow = true;
                    break;
                default:
                    return null;
            }
        }
        return (agreed, echoServerWindow, echoClientWindow);
    }

    // §7.1.2: 1*DIGIT, 8 to 15, with no leading zero; a quoted-string form is unquoted by the parser first (§7.1:
    // "the value ... MUST conform to the ABNF below" after unquoting).
    private static int? ParseWindowBits(string? value)
    {
        if (value is null || value.Length is < 1 or > 2 || value[0] == '0')
            return null;
        foreach (var c in value)
        {
            if (c is < '0' or > '9')
                return null;
        }
        var bits = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        return bits is >= MinWindowBits and <= MaxWindowBits ? bits : null;
    }

    // RFC 6455 §9.1: extension-list = 1#extension; extension = token *( ";" token [ "=" (token | quoted-string) ] ).
    // False for a value that does not follow it.
    private static bool TryParseList(
        string value, out List<(string Name, List<(string Name, string? Value)> Parameters)> extensions)
    {
        extensions = [];
        var at = 0;
        while (true)
        {
            SkipSpace(value, ref at);
            if (at == value.Length)
                return true;
            if (value[at] == ',')
            {
                at++;
                continue; // empty list elements are allowed (RFC 9110 §5.6.1)
            }
            var name = ReadToken(value, ref at);
            if (name.Length == 0)
                return false;
            var parameters = new List<(string, string?)>();
            while (true)
            {
                SkipSpace(value, ref at);
                if (at == value.Length || value[at] == ',')
                    break;
                if (value[at] != ';')
                    return false;
                at++;
                SkipSpace(value, ref at);
                var parameter = ReadToken(value, ref at);
                if (parameter.Length == 0)
                    return false;
                SkipSpace(value, ref at);
                string? parameterValue = null;
                if (at < value.Length && value[at] == '=')
                {
                    at++;
                    SkipSpace(value, ref at);
                    if (at < value.Length && value[at] == '"')
                    {
                        if (ReadQuoted(value, ref at) is not { } quoted)
                            return false;
                        parameterValue = quoted;
                    }
                    else
                    {
                        parameterValue = ReadToken(value, ref at);
                        if (parameterValue.Length == 0)
                            return false;
                    }
                }
                parameters.Add((parameter, parameterValue));
            }
            extensions.Add((name, parameters));
        }
    }

    private static void SkipSpace(string value, ref int at)
    {
        while (at < value.Length && value[at] is ' ' or '\t')
            at++;
    }

    // RFC 9110 §5.6.2 tchar.
    private static string ReadToken(string value, ref int at)
    {
        var start = at;
        while (at < value.Length && (char.IsAsciiLetterOrDigit(value[at]) || "!#$%&'*+-.^_`|~".Contains(value[at])))
            at++;
        return value[start..at];
    }

    private static string? ReadQuoted(string value, ref int at)
    {
        var text = new StringBuilder();
        for (at++; at < value.Length; at++)
        {
            var c = value[at];
            if (c == '"')
            {
                at++;
                return text.ToString();
            }
            if (c == '\\')
            {
                if (++at == value.Length)
                    return null;
                c = value[at];
            }
            text.Append(c);
        }
        return null;
    }
}
