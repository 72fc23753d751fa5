namespace WsCore.Tests.Support;

/// <summary>Where the repository's files are, found from the test assembly's location.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "wsctl.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("wsctl.sln not found above " + AppContext.BaseDirectory);
    }
}
