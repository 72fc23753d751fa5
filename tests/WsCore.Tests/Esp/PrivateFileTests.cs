using WsCore.Esp;
using WsCore.FlashFiles;
using WsCore.Flashing;

namespace WsCore.Tests.Esp;

public class PrivateFileTests
{
    [Fact]
    public void Write_OverAReadableFile_LeavesOnlyTheOwnersMode()
    {
        var dir = Directory.CreateTempSubdirectory("wsctl-private-").FullName;
        try
        {
            var path = Path.Combine(dir, "nvs.bin");
            File.WriteAllText(path, "old");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

            PrivateFile.Write(path, [1, 2, 3], InputField.NvsImageFile);

            Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Single(Directory.GetFiles(dir)); // no temporary file left behind
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Write_IntoAMissingDirectory_FailsOfTheGivenField()
    {
        var e = Assert.Throws<WsCoreException>(() =>
            PrivateFile.Write("/nonexistent/dir/merged.bin", [1], InputField.MergedImageFile));
        Assert.Equal(FailureKind.InvalidInput, e.Kind);
        Assert.Equal(InputField.MergedImageFile, e.Field);
        Assert.Equal("the directory /nonexistent/dir does not exist", e.Message);
    }

    [Theory]
    [InlineData("hard_reset", AfterReset.HardReset)]
    [InlineData("hard-reset", AfterReset.HardReset)]
    [InlineData("no_reset", AfterReset.NoReset)]
    [InlineData("soft_reset", null)]
    [InlineData(null, null)]
    public void ResetNames_ParseAfter_TakesEitherSpelling(string? name, AfterReset? expected) =>
        Assert.Equal(expected, ResetNames.ParseAfter(name));
}
