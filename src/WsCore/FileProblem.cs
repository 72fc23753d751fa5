namespace WsCore;

/// <summary>
/// Why a file the user named could not be read, in words that point at the fix. .NET's own messages call a directory
/// "Access to the path is denied" (it is not a permission problem) and repeat the path the caller already shows.
/// </summary>
public static class FileProblem
{
    /// <summary>The reason <paramref name="error"/> (from opening or reading <paramref name="path"/>) gives.</summary>
    public static string Describe(string path, Exception error) => error switch
    {
        FileNotFoundException or DirectoryNotFoundException => "it does not exist",
        UnauthorizedAccessException when Directory.Exists(path) => "it is a directory, not a file",
        UnauthorizedAccessException => "permission denied (its mode or owner does not let this user read it)",
        _ => error.Message,
    };
}
