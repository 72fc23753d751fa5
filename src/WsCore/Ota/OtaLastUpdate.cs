namespace WsCore.Ota;

/// <summary>How the device's last update ended, as it remembers it across reboots (<c>hello.last_update</c>).</summary>
/// <param name="Result"><c>none</c>, <c>confirmed</c> or <c>rolled_back</c>.</param>
/// <param name="Version">The version that update installed, or null.</param>
/// <param name="Reason">
/// Why it rolled back: <c>not_confirmed</c>, <c>panic</c>, <c>watchdog</c>, <c>reset</c> or <c>invalid</c>; null
/// otherwise.
/// </param>
public sealed record OtaLastUpdate(string Result, string? Version, string? Reason)
{
    /// <summary>The device remembers no update.</summary>
    public static readonly OtaLastUpdate None = new("none", null, null);

    /// <summary>Whether the last update rolled back.</summary>
    public bool RolledBack => Result == "rolled_back";
}
