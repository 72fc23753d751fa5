namespace WsCore.Tests.Support;

/// <summary>Finds the tools some tests need and Debian does not ship (Espressif's QEMU, esptool).</summary>
public static class Executables
{
    /// <summary>
    /// The path of <paramref name="name"/> in <paramref name="firstDir"/> (if given) or on PATH, or null.
    /// </summary>
    public static string? Find(string name, string? firstDir = null) =>
        new[] { firstDir }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            .Where(d => !string.IsNullOrEmpty(d))
            .Select(d => Path.Combine(d!, name))
            .FirstOrDefault(File.Exists);
}
