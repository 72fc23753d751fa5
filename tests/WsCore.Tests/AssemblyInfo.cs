// The tests exercise Unix sockets, file modes, signals and network namespaces: they run on Linux.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
