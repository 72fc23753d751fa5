using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace WsCore.Mdns;

/// <summary>Chooses the network interfaces mDNS runs on.</summary>
public static class MdnsInterfaces
{
    /// <summary>
    /// The interfaces to use: the one named <paramref name="interfaceName"/>, or else every interface that is up,
    /// multicast-capable and has an address of a wanted family. Loopback qualifies only if it carries the
    /// MULTICAST flag (Linux does not set it by default; tests set it inside their own network namespace).
    /// </summary>
    /// <exception cref="WsCoreException">
    /// <see cref="FailureKind.InvalidInput"/> if the named interface does not exist, is down or cannot multicast;
    /// <see cref="FailureKind.Other"/> if no interface qualifies.
    /// </exception>
    public static IReadOnlyList<MdnsInterface> Select(string? interfaceName, bool ipv4 = true, bool ipv6 = true)
    {
        var all = NetworkInterface.GetAllNetworkInterfaces();
        if (interfaceName is not null)
        {
            var named = all.FirstOrDefault(n => n.Name == interfaceName)
                ?? throw new WsCoreException(FailureKind.InvalidInput, $"no network interface named '{interfaceName}'",
                    hint: "list them with: ip link");
            if (!Qualifies(named))
            {
                throw new WsCoreException(
                    FailureKind.InvalidInput,
                    $"interface '{interfaceName}' is down or cannot multicast",
                    hint: $"ip link set {interfaceName} up multicast on");
            }
            var chosen = Describe(named, ipv4, ipv6);
            if (chosen.IPv4Addresses.Count == 0 && chosen.IPv6Addresses.Count == 0)
                throw new WsCoreException(
                    FailureKind.InvalidInput, $"interface '{interfaceName}' has no address of the wanted family");
            return [chosen];
        }
        var result = all.Where(Qualifies)
            .Select(n => Describe(n, ipv4, ipv6))
            .Where(i => i.IPv4Addresses.Count > 0 || i.IPv6Addresses.Count > 0)
            .ToList();
        if (result.Count == 0)
        {
            throw new WsCoreException(FailureKind.Other, "no network interface is up and multicast-capable",
                hint: "connect to a network, or name the interface to use")
            { HintField = InputField.Interface };
        }
        return result;
    }

    private static bool Qualifies(NetworkInterface nic) =>
        // Loopback reports OperationalStatus.Unknown on Linux even when up; anything else must say Up.
        (nic.OperationalStatus == OperationalStatus.Up
         || (nic.NetworkInterfaceType == NetworkInterfaceType.Loopback
             && nic.OperationalStatus == OperationalStatus.Unknown))
        && nic.SupportsMulticast;

    private static MdnsInterface Describe(NetworkInterface nic, bool ipv4, bool ipv6)
    {
        var properties = nic.GetIPProperties();
        var index = ipv4 && nic.Supports(NetworkInterfaceComponent.IPv4)
            ? properties.GetIPv4Properties().Index
            : properties.GetIPv6Properties().Index;
        var unicast = properties.UnicastAddresses
            .Where(u => u.Address.AddressFamily == AddressFamily.InterNetwork ? ipv4 : ipv6)
            .ToList();
        var v4 = unicast.Select(u => u.Address).Where(a => a.AddressFamily == AddressFamily.InterNetwork).ToList();
        var v6 = unicast
            .Select(u => u.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetworkV6)
            .Select(a => MdnsQueryMatcher.WithScope(a, index))
            .ToList();
        return new MdnsInterface(nic.Name, index, nic.NetworkInterfaceType == NetworkInterfaceType.Loopback, v4, v6)
        {
            Prefixes = [.. unicast.Select(u => MdnsLink.Prefix(u.Address, u.PrefixLength))],
        };
    }

    /// <summary>
    /// The interface with kernel index <paramref name="index"/> among <paramref name="interfaces"/>, or null.
    /// </summary>
    internal static MdnsInterface? ByIndex(IReadOnlyList<MdnsInterface> interfaces, int index) =>
        interfaces.FirstOrDefault(i => i.Index == index);

    internal static IEnumerable<IPAddress> Of(MdnsInterface iface, AddressFamily family) =>
        family == AddressFamily.InterNetwork ? iface.IPv4Addresses : iface.IPv6Addresses;
}
