namespace WsCore.Targets;

/// <summary>How a target names its host, and so how it is resolved.</summary>
public enum HostKind
{
    /// <summary>An IPv4 or IPv6 address literal: nothing to resolve.</summary>
    Address,
    /// <summary>A <c>NAME.local</c> name: resolved by mDNS (RFC 6762).</summary>
    Mdns,
    /// <summary>Any other name: resolved by the system resolver (unicast DNS, /etc/hosts).</summary>
    Dns,
}
