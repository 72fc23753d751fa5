using System.Security.Cryptography;
using System.Text;
using WsCore.Nvs;

namespace WsCore.Ota;

/// <summary>The OTA key as read from its file, and how the file was found.</summary>
/// <param name="Key">The <see cref="DeviceSettings.OtaKeyBytes"/> key bytes.</param>
/// <param name="Created">Whether the file did not exist and was made now, with a new random key.</param>
/// <param name="OthersCanRead">Whether the file's mode lets users other than its owner read it.</param>
public sealed record OtaKeyFileContents(byte[] Key, bool Created, bool OthersCanRead)
{
    /// <summary>Never prints the key.</summary>
    public override string ToString() =>
        $"OtaKeyFileContents {{ Created = {Created}, OthersCanRead = {OthersCanRead} }}";
}

/// <summary>
/// The file that holds a device's OTA key (docs/ota-protocol.md): the key as 64 hex digits, a line of its own. Made
/// with a key from <see cref="RandomNumberGenerator"/> and mode 0600 when it does not exist, so the first
/// <c>flash --ota-key FILE</c> provisions a key nobody chose and later updates read the same file.
/// </summary>
/// <remarks>
/// No message of this class shows the file's content: a file that is almost a key is still almost a secret.
/// </remarks>
public static class OtaKeyFile
{
    /// <summary>Hex digits of the key in its file.</summary>
    public const int HexLength = DeviceSettings.OtaKeyBytes * 2;

    /// <summary>Reads the key from <paramref name="path"/>.</summary>
    /// <exception cref="WsCoreException">InvalidInput of <see cref="InputField.OtaKey"/>: missing, unreadable or not a
    /// key.</exception>
    public static OtaKeyFileContents Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.ASCII);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw WsCoreException.Invalid(InputField.OtaKey, $"{path} does not exist",
                "wsctl flash makes it, with a new key, and writes that key to the device");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw WsCoreException.Invalid(InputField.OtaKey, $"cannot read {path}: {FileProblem.Describe(path, e)}");
        }
        return new OtaKeyFileContents(Parse(text, path), Created: false, OthersCanRead(path));
    }

    /// <summary>
    /// Reads the key from <paramref name="path"/>, or, when there is no such file, makes one (mode 0600, created
    /// exclusively: an existing file is never replaced) with a new random key.
    /// </summary>
    /// <exception cref="WsCoreException">InvalidInput of <see cref="InputField.OtaKey"/>.</exception>
    public static OtaKeyFileContents LoadOrCreate(string path)
    {
        if (File.Exists(path))
            return Load(path);
        if (Directory.Exists(path))
            throw WsCoreException.Invalid(InputField.OtaKey, $"{path} is a directory");
        var full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is { } parent && !Directory.Exists(parent))
            throw WsCoreException.Invalid(InputField.OtaKey, $"the directory {parent} does not exist",
                $"create it first: mkdir -p {parent}");
        var key = RandomNumberGenerator.GetBytes(DeviceSettings.OtaKeyBytes);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var file = new FileStream(full, options);
            file.Write(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(key) + "\n"));
        }
        catch (IOException) when (File.Exists(full))
        {
            // Another wsctl made it meanwhile: its key is the one to use.
            return Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw WsCoreException.Invalid(InputField.OtaKey, $"cannot create {path} ({e.Message})");
        }
        return new OtaKeyFileContents(key, Created: true, OthersCanRead: false);
    }

    /// <summary>The key in a key file's text: 64 hex digits, blanks and line ends around them ignored.</summary>
    /// <exception cref="WsCoreException">InvalidInput of <see cref="InputField.OtaKey"/>.</exception>
    public static byte[] Parse(string text, string source)
    {
        var digits = text.Trim();
        var hex = digits.All(char.IsAsciiHexDigit);
        if (digits.Length != HexLength || !hex)
            throw WsCoreException.Invalid(InputField.OtaKey,
                $"{source} does not hold an OTA key: expected {HexLength} hex digits (32 bytes) on one line, found " +
                $"{digits.Length} character(s){(hex ? "" : " that are not all hex digits")}");
        return Convert.FromHexString(digits);
    }

    private static bool OthersCanRead(string path) =>
        !OperatingSystem.IsWindows()
        && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0;
}
