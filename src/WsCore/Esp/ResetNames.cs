namespace WsCore.Esp;

/// <summary>esptool's names of the resets, in either spelling (no_reset, no-reset).</summary>
public static class ResetNames
{
    /// <summary>default-reset or no-reset; null for anything else.</summary>
    public static BeforeReset? ParseBefore(string? name) => Normalise(name) switch
    {
        "default-reset" => BeforeReset.DefaultReset,
        "no-reset" => BeforeReset.NoReset,
        _ => null,
    };

    /// <summary>hard-reset or no-reset; null for anything else (a build may name resets the flasher has not).</summary>
    public static AfterReset? ParseAfter(string? name) => Normalise(name) switch
    {
        "hard-reset" => AfterReset.HardReset,
        "no-reset" => AfterReset.NoReset,
        _ => null,
    };

    private static string Normalise(string? name) => (name ?? "").Replace('_', '-');
}
