using WsCore.Flashing;

namespace WsCore.FlashFiles;

/// <summary>
/// Reads what a <see cref="FlashRequest"/> names from disk (an ESP-IDF build directory's flasher_args.json, the files
/// it lists, its partitions.csv; explicit images) and hands the bytes to <see cref="FlashPlanner"/>, which does no
/// I/O. Reads files; writes nothing.
/// </summary>
public static class FlashFileLoader
{
    /// <summary>The file an ESP-IDF build directory describes itself in (docs/esp32-rom-protocol.md §9).</summary>
    public const string FlasherArgsFile = "flasher_args.json";

    /// <summary>
    /// Reads the request's files and makes the plan; throws <see cref="WsCoreException"/> (InvalidInput) with the
    /// request's field at fault as its <see cref="WsCoreException.Field"/>.
    /// </summary>
    public static FlashPlan Plan(FlashRequest request)
    {
        request.Settings?.Validate();
        var (build, buildDirectory, named) = Resolve(request);
        var parameters = FlashParameters.Resolve(
            request.Chip, build, request.FlashMode, request.FlashSize, request.FlashFreq);
        var files = named.Select(file => Read(file, parameters.FlashBytes)).ToList();
        return FlashPlanner.Create(new FlashSources
        {
            Parameters = parameters,
            Files = files,
            Build = build,
            BuildPartitions = request.Settings is not null && buildDirectory is not null
                ? ReadPartitionsCsv(buildDirectory)
                : null,
            Settings = request.Settings,
            Force = request.Force,
        });
    }

    /// <summary>
    /// The build (when <see cref="FlashRequest.Firmware"/> is a directory), and every file the request names with
    /// where it goes: the build's files in flasher_args.json's order, or the lone app, then the explicit images.
    /// </summary>
    private static (FlasherArgs? Build, string? Directory, List<NamedFile> Files) Resolve(FlashRequest request)
    {
        var files = new List<NamedFile>();
        FlasherArgs? build = null;
        string? directory = null;
        if (request.Firmware is { } firmware)
        {
            if (Directory.Exists(firmware))
            {
                var json = Path.Combine(firmware, FlasherArgsFile);
                if (!File.Exists(json))
                    throw WsCoreException.Invalid(InputField.Firmware,
                        $"{firmware} has no {FlasherArgsFile} (expected an ESP-IDF build directory, or an app .bin)");
                build = FlasherArgs.Parse(File.ReadAllText(json), json);
                directory = firmware;
                foreach (var (offset, path) in build.Files)
                    files.Add(new(Path.GetFileName(path), offset, Path.Combine(firmware, path), InputField.Firmware));
            }
            else if (File.Exists(firmware))
                files.Add(new("app", FlashPlanner.DefaultAppOffset, firmware, InputField.Firmware));
            else
                throw WsCoreException.Invalid(InputField.Firmware, $"{firmware} does not exist");
        }
        foreach (var (offset, path) in request.Images)
            files.Add(new(Path.GetFileName(path), offset, path, InputField.Images));
        return (build, directory, files);
    }

    /// <summary>
    /// Reads one file, refusing one that is missing, empty, or too large for the flash (checked before it is read).
    /// </summary>
    private static FlashSource Read(NamedFile file, uint flashBytes)
    {
        if (!File.Exists(file.Path))
            throw WsCoreException.Invalid(file.Field, Directory.Exists(file.Path)
                ? $"{file.Path} is a directory, not a file"
                : $"{file.Path} does not exist");
        var length = new FileInfo(file.Path).Length;
        if (length == 0)
            throw WsCoreException.Invalid(file.Field, $"{file.Path} is empty");
        FlashLayout.CheckFits(file.Path, length, file.Offset, flashBytes, file.Field);
        byte[] data;
        try
        {
            data = File.ReadAllBytes(file.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw WsCoreException.Invalid(file.Field, $"cannot read {file.Path}: {FileProblem.Describe(file.Path, e)}");
        }
        return new FlashSource(file.Name, file.Offset, file.Path, file.Field, data);
    }

    /// <summary>
    /// The build's partition table in CSV form: the build directory's partitions*.csv, else the project's
    /// partitions.csv beside it (a build directory inside the project); null when there is none.
    /// </summary>
    private static PartitionsCsv? ReadPartitionsCsv(string buildDirectory)
    {
        var csv = Directory.EnumerateFiles(buildDirectory, "partitions*.csv").FirstOrDefault()
            ?? Path.Combine(buildDirectory, "..", "partitions.csv");
        if (!File.Exists(csv))
            return null;
        try
        {
            return new PartitionsCsv(Path.GetFileName(csv), File.ReadAllText(csv));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw WsCoreException.Invalid(InputField.Firmware, $"cannot read {csv}: {FileProblem.Describe(csv, e)}");
        }
    }

    /// <summary>A file the request names: its region's name, where it goes, its path, the field naming it.</summary>
    private sealed record NamedFile(string Name, uint Offset, string Path, InputField Field);
}
