namespace Wsctl.Flash;

/// <summary>What an offline <c>flash</c> run wrote, for its plan's last lines.</summary>
/// <param name="NvsOut">The NVS image (--nvs-out), or null.</param>
/// <param name="Output">The merged image (--output), or null.</param>
/// <param name="WebInstall">The ESP Web Tools install folder (--web-install), or null.</param>
public sealed record WrittenFiles(string? NvsOut, string? Output, string? WebInstall);
