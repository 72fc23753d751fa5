using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;

namespace Wsctl.Cli;

/// <summary>
/// The version and the git commit the binary was built from (the SDK's SourceLink puts it after '+').
/// </summary>
public static class VersionInfo
{
    public static string Text
    {
        get
        {
            var informational = typeof(VersionInfo).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            var plus = informational.IndexOf('+');
            return plus < 0
                ? $"wsctl {informational} (commit unknown: built outside a git checkout)"
                : $"wsctl {informational[..plus]} (commit {informational[(plus + 1)..]})";
        }
    }

    /// <summary>The version number alone (e.g. "0.1.0"), as serve advertises it in its mDNS TXT record.</summary>
    public static string Number
    {
        get
        {
            var informational = typeof(VersionInfo).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            var plus = informational.IndexOf('+');
            return plus < 0 ? informational : informational[..plus];
        }
    }

    /// <summary>Replaces the default --version output with <see cref="Text"/>.</summary>
    public static void Install(RootCommand root)
    {
        foreach (var option in root.Options.OfType<VersionOption>())
            option.Action = new PrintVersion();
    }

    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Text);
            return 0;
        }
    }
}
