// wsctl targets Linux (and other Unix systems): Unix-domain control sockets, 0600 secret files, POSIX signals,
// serial ports found through sysfs. Declaring it here lets the platform analyzer check WsCore's Unix-only APIs.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
