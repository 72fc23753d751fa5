using WsCore.Tests.Support;

namespace WsCore.Tests.Probe;

/// <summary>
/// A [Fact] that runs the firmware's host build (<see cref="FirmwareHost"/>); skipped, saying why, only where it
/// cannot be built: no cmake or no C compiler. Where they are, a build that fails fails the test.
/// </summary>
public sealed class FirmwareHostFactAttribute : FactAttribute
{
    public FirmwareHostFactAttribute()
    {
        if (Executables.Find("cmake") is null)
            Skip = "needs cmake to build the firmware's host build ws_server_host (apt-get install cmake)";
        else if (Executables.Find("cc") is null && Executables.Find("gcc") is null)
            Skip = "needs a C compiler (cc) to build the firmware's host build ws_server_host (apt-get install gcc)";
    }
}
