using System.Text;
using System.Text.Json;

namespace WsCore.Ota;

/// <summary>
/// The text frames of wsctl-ota.1 (docs/ota-protocol.md): the client's <c>begin</c> and <c>confirm</c> written, the
/// device's messages read. Pure: JSON in and out, no I/O (Utf8JsonWriter and JsonDocument: no reflection, so
/// NativeAOT-safe).
/// </summary>
public static class OtaMessages
{
    /// <summary><c>{"type":"begin","size":N,"sha256":"…","force":B,"auth":"…"}</c>.</summary>
    public static byte[] Begin(long size, ReadOnlySpan<byte> sha256, bool force, ReadOnlySpan<byte> auth)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "begin");
            json.WriteNumber("size", size);
            json.WriteString("sha256", Convert.ToHexStringLower(sha256));
            json.WriteBoolean("force", force);
            json.WriteString("auth", Convert.ToHexStringLower(auth));
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary><c>{"type":"confirm","version":"…","elf_sha256":"…","auth":"…"}</c>.</summary>
    public static byte[] Confirm(string version, ReadOnlySpan<byte> elfSha256, ReadOnlySpan<byte> auth)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "confirm");
            json.WriteString("version", version);
            json.WriteString("elf_sha256", Convert.ToHexStringLower(elfSha256));
            json.WriteString("auth", Convert.ToHexStringLower(auth));
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Parses a device's text frame.</summary>
    /// <exception cref="FormatException">
    /// Not a message of the protocol: not JSON, no known <c>type</c>, or a field missing or of the wrong kind (the
    /// client then closes with 1002).
    /// </exception>
    public static OtaDeviceMessage Parse(ReadOnlySpan<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray());
        }
        catch (JsonException e)
        {
            throw new FormatException($"not JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new FormatException("not a JSON object");
            var type = String(root, "type");
            return type switch
            {
                "hello" => new OtaDeviceMessage(OtaMessageType.Hello, Hello: ParseHello(root)),
                "ready" => new OtaDeviceMessage(OtaMessageType.Ready, Number: Count(root, "window", minimum: 1)),
                "progress" => new OtaDeviceMessage(OtaMessageType.Progress, Number: Count(root, "written")),
                "rebooting" => new OtaDeviceMessage(OtaMessageType.Rebooting, Text: OptionalString(root, "slot")),
                "confirmed" => new OtaDeviceMessage(OtaMessageType.Confirmed, Text: OptionalString(root, "version")),
                "error" => new OtaDeviceMessage(OtaMessageType.Error, Text: String(root, "code"),
                    Message: OptionalString(root, "message")),
                _ => throw new FormatException($"unknown message type '{Shown(type)}'"),
            };
        }
    }

    private static OtaHello ParseHello(JsonElement root)
    {
        var protocol = String(root, "protocol");
        if (protocol != OtaProtocol.Subprotocol)
            throw new FormatException($"hello names protocol '{Shown(protocol)}', not {OtaProtocol.Subprotocol}");
        var nonce = Hex(root, "nonce", OtaProtocol.NonceBytes);
        var elf = String(root, "elf_sha256");
        if (elf.Length != 64 || !elf.All(char.IsAsciiHexDigit))
            throw new FormatException("hello's elf_sha256 is not 64 hex digits");
        var last = OtaLastUpdate.None;
        if (root.TryGetProperty("last_update", out var update) && update.ValueKind == JsonValueKind.Object)
            last = new OtaLastUpdate(String(update, "result"), OptionalString(update, "version"),
                OptionalString(update, "reason"));
        return new OtaHello(nonce, String(root, "chip"), String(root, "project"), String(root, "version"),
            elf.ToLowerInvariant(), String(root, "running_slot"), String(root, "state"), Count(root, "slot_size"),
            last);
    }

    private static string String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"no string '{name}'");

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long Count(JsonElement root, string name, long minimum = 0) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            && value.TryGetInt64(out var number) && number >= minimum
            ? number
            : throw new FormatException($"no whole number '{name}' of at least {minimum}");

    private static byte[] Hex(JsonElement root, string name, int bytes)
    {
        var text = String(root, name);
        return text.Length == bytes * 2 && text.All(char.IsAsciiHexDigit)
            ? Convert.FromHexString(text)
            : throw new FormatException($"'{name}' is not {bytes * 2} hex digits");
    }

    // A peer's text in a message of ours: short, one line, no control characters.
    private static string Shown(string text)
    {
        var shown = new StringBuilder();
        foreach (var c in text.Length > 40 ? text[..40] : text)
            shown.Append(char.IsControl(c) ? '?' : c);
        return shown.ToString();
    }
}
