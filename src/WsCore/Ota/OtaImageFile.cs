using WsCore.Flashing;

namespace WsCore.Ota;

/// <summary>
/// Finds and reads the app image an update sends: an app .bin, or the app of an ESP-IDF build directory (the file
/// at the <c>app</c> offset of its <c>flasher_args.json</c>, as <c>wsctl flash --firmware DIR</c> reads it).
/// </summary>
public static class OtaImageFile
{
    /// <summary>Reads and parses the app of <paramref name="firmware"/> (a build directory or an app .bin).</summary>
    /// <exception cref="WsCoreException">InvalidInput of <see cref="InputField.Firmware"/>.</exception>
    public static OtaImage Load(string firmware)
    {
        var path = firmware;
        if (Directory.Exists(firmware))
        {
            var json = Path.Combine(firmware, "flasher_args.json");
            if (!File.Exists(json))
                throw WsCoreException.Invalid(InputField.Firmware,
                    $"{firmware} has no flasher_args.json (expected an ESP-IDF build directory, or an app .bin)");
            FlasherArgs args;
            try
            {
                args = FlasherArgs.Parse(File.ReadAllText(json), json);
            }
            catch (WsCoreException e)
            {
                throw WsCoreException.Invalid(InputField.Firmware, e.Message);
            }
            var app = args.AppOffset is { } offset ? args.Files.FirstOrDefault(f => f.Offset == offset).Path : null;
            if (string.IsNullOrEmpty(app))
                throw WsCoreException.Invalid(InputField.Firmware, $"{json} names no app image");
            path = Path.Combine(firmware, app);
        }
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw WsCoreException.Invalid(InputField.Firmware, $"{path} does not exist");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw WsCoreException.Invalid(InputField.Firmware, $"cannot read {path}: {FileProblem.Describe(path, e)}");
        }
        return OtaImage.Parse(data, path);
    }
}
