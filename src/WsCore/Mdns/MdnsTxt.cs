namespace WsCore.Mdns;

/// <summary>
/// DNS-SD TXT record strings (RFC 6763 §6) to and from a key/value dictionary. Pure functions; no I/O.
/// </summary>
public static class MdnsTxt
{
    /// <summary>
    /// The strings of a TXT record, one <c>key=value</c> per entry in the given order. An empty dictionary gives one
    /// empty string: RFC 6763 §6.1 requires a TXT record to hold at least one (possibly empty) string.
    /// </summary>
    /// <exception cref="WsCoreException">A key is empty, contains '=', or an entry exceeds 255 bytes (§6.1,
    /// §6.4).</exception>
    public static List<string> Encode(IEnumerable<KeyValuePair<string, string>> entries)
    {
        var strings = new List<string>();
        foreach (var (key, value) in entries)
        {
            if (key.Length == 0 || key.Contains('='))
                throw new WsCoreException(
                    FailureKind.InvalidInput, $"TXT key '{key}' must be non-empty and contain no '=' (RFC 6763 §6.4)");
            var entry = $"{key}={value}";
            if (System.Text.Encoding.UTF8.GetByteCount(entry) > 255)
                throw new WsCoreException(
                    FailureKind.InvalidInput, $"TXT entry '{key}' is longer than 255 bytes (RFC 6763 §6.1)");
            strings.Add(entry);
        }
        if (strings.Count == 0)
            strings.Add("");
        return strings;
    }

    /// <summary>
    /// The key/value pairs of TXT record strings. Keys compare case-insensitively and only the first occurrence of
    /// a key counts (RFC 6763 §6.4); a key without '=' is a boolean attribute and gets the empty value (§6.4);
    /// empty strings and strings starting with '=' are ignored.
    /// </summary>
    public static Dictionary<string, string> Decode(IEnumerable<string> strings)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in strings)
        {
            if (s.Length == 0 || s[0] == '=')
                continue;
            var eq = s.IndexOf('=');
            var key = eq < 0 ? s : s[..eq];
            var value = eq < 0 ? "" : s[(eq + 1)..];
            result.TryAdd(key, value);
        }
        return result;
    }
}
