namespace WsCore.Flashing;

/// <summary>A build's partitions.csv, as the caller read it.</summary>
/// <param name="Name">The file's name, for messages.</param>
/// <param name="Text">Its contents.</param>
public sealed record PartitionsCsv(string Name, string Text);
