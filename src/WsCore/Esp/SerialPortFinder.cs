namespace WsCore.Esp;

/// <summary>
/// Finds ESP32 USB serial adapters through sysfs (<c>/sys/class/tty/*/device</c>, walking up to the USB device
/// that has <c>idVendor</c>/<c>idProduct</c>). The root is injectable so tests can build a fake tree.
/// </summary>
public sealed class SerialPortFinder(string sysfsRoot = "/sys", string devRoot = "/dev")
{
    /// <summary>The adapters wsctl recognises by VID:PID.</summary>
    public static readonly IReadOnlyDictionary<string, string> KnownAdapters = new Dictionary<string, string>
    {
        ["10c4:ea60"] = "CP210x",
        ["1a86:7523"] = "CH340",
        ["1a86:55d4"] = "CH9102",
        ["0403:6001"] = "FTDI FT232R",
        ["0403:6010"] = "FTDI FT2232",
        ["0403:6015"] = "FTDI FT231X",
        ["303a:1001"] = "Espressif USB-Serial/JTAG",
    };

    /// <summary>The recognised adapters present, sorted by device path: what <c>auto</c> chooses from.</summary>
    public IReadOnlyList<SerialPortCandidate> Find() =>
        [.. List().Where(p => p.IsEsp32Adapter)
            .Select(p => new SerialPortCandidate(p.DevicePath, p.VendorId, p.ProductId, p.Kind!))];

    /// <summary>
    /// Every USB serial port present, recognised or not, with its USB ids and strings, sorted by device path.
    /// </summary>
    public IReadOnlyList<SerialPortInfo> List()
    {
        var ttyClass = Path.Combine(sysfsRoot, "class", "tty");
        if (!Directory.Exists(ttyClass))
            return [];
        var found = new List<SerialPortInfo>();
        foreach (var entry in Directory.EnumerateFileSystemEntries(ttyClass))
        {
            var device = Path.Combine(entry, "device");
            if (!Directory.Exists(device))
                continue;
            var dir = RealPath(device);
            for (var up = 0; up < 4 && dir is not null; up++, dir = Path.GetDirectoryName(dir))
            {
                var vid = ReadAttribute(dir, "idVendor")?.ToLowerInvariant();
                var pid = ReadAttribute(dir, "idProduct")?.ToLowerInvariant();
                if (vid is null || pid is null)
                    continue;
                found.Add(new SerialPortInfo(
                    Path.Combine(devRoot, Path.GetFileName(entry)),
                    vid,
                    pid,
                    ReadAttribute(dir, "manufacturer"),
                    ReadAttribute(dir, "product"),
                    ReadAttribute(dir, "serial"),
                    KnownAdapters.GetValueOrDefault($"{vid}:{pid}")));
                break;
            }
        }
        found.Sort((a, b) => string.CompareOrdinal(a.DevicePath, b.DevicePath));
        return found;
    }

    /// <summary>A sysfs attribute's text, trimmed; null when the device has none or it cannot be read.</summary>
    private static string? ReadAttribute(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// realpath(3) in managed code: resolves every symlink component, so ".." walks the real device hierarchy
    /// (sysfs is a tree of relative symlinks whose targets are relative to their real parent).
    /// </summary>
    internal static string RealPath(string path)
    {
        var pending = new Stack<string>(Path.GetFullPath(path)
            .Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Reverse());
        var current = "/";
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
                continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }
            var next = Path.Combine(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null || ++hops > 64)
            {
                current = next;
                continue;
            }
            if (target.StartsWith('/'))
                current = "/";
            foreach (var piece in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
                pending.Push(piece);
        }
        return current;
    }
}
