using Mono.Cecil;

namespace WsCore.Tests.Esp;

/// <summary>
/// The flasher's protocol code does no I/O (README, Architecture): the image and plan namespaces, the NVS builder,
/// the chip facts and the ROM packet, SLIP, planning and compression types name no file, directory, socket, serial
/// port or console API, in their signatures or their method bodies, read from the compiled WsCore.dll.
/// </summary>
public class ProtocolCodeTests
{
    private static readonly string[] PureNamespaces = ["WsCore.Flashing", "WsCore.Nvs", "WsCore.Chips"];

    private static readonly string[] PureEspTypes =
    [
        "RomCommand", "RomErrorCode", "RomErrors", "RomResponse", "RomPackets", "RomTimeouts", "Slip", "SlipDecoder",
        "SlipDecodeStatus", "FlashRange", "WritePiece", "RegionWrite", "WritePlanner", "FlashCompressor",
    ];

    private static readonly string[] IoTypes =
    [
        "System.IO.File", "System.IO.FileInfo", "System.IO.Directory", "System.IO.DirectoryInfo",
        "System.IO.FileSystemInfo", "System.IO.FileStream", "System.IO.Path", "System.IO.StreamReader",
        "System.IO.StreamWriter", "System.Console",
    ];

    private static readonly string[] IoNamespaces = ["System.Net", "System.IO.Ports"];

    private static bool IsIo(TypeReference type)
    {
        while (type.DeclaringType is { } outer)
            type = outer;
        var name = type.GetElementType().FullName;
        return IoTypes.Contains(name) || IoNamespaces.Any(ns =>
            type.Namespace == ns || type.Namespace.StartsWith(ns + ".", StringComparison.Ordinal));
    }

    private static IEnumerable<TypeReference> Used(TypeDefinition type)
    {
        foreach (var field in type.Fields)
            yield return field.FieldType;
        foreach (var method in type.Methods)
        {
            yield return method.ReturnType;
            foreach (var parameter in method.Parameters)
                yield return parameter.ParameterType;
            if (!method.HasBody)
                continue;
            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference t:
                        yield return t;
                        break;
                    case MemberReference m when m.DeclaringType is { } declaring:
                        yield return declaring;
                        break;
                }
            }
        }
        foreach (var nested in type.NestedTypes)
            foreach (var t in Used(nested))
                yield return t;
    }

    [Fact]
    public void ProtocolTypes_NameNoIoApi()
    {
        using var assembly = AssemblyDefinition.ReadAssembly(Path.Combine(AppContext.BaseDirectory, "WsCore.dll"));
        var pure = assembly.MainModule.Types
            .Where(t => PureNamespaces.Contains(t.Namespace)
                || t.Namespace == "WsCore.Esp" && PureEspTypes.Contains(t.Name))
            .ToList();
        Assert.Equal(PureEspTypes.Length, pure.Count(t => t.Namespace == "WsCore.Esp"));
        Assert.Contains(pure, t => t.FullName == "WsCore.Flashing.FlashPlanner");
        var found = pure
            .SelectMany(t => Used(t).Where(IsIo).Select(io => $"{t.FullName} uses {io.FullName}"))
            .Distinct()
            .ToList();
        Assert.True(found.Count == 0, string.Join("\n", found));
    }
}
