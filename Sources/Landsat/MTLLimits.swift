/// What an MTL file may make the parsers do, whatever its content (docs/reliability.md, "Limits").
///
/// USGS MTL files are 10–70 KB with about 300 values in at most 3 levels of groups; the limits are
/// far above any real file and keep a damaged or hostile one from making the readers allocate or
/// recurse without bound. Exceeding one is a ``LandsatError/Code/malformed`` error naming the file.
public enum MTLLimits {
    /// Largest MTL file read, in bytes (4 MiB).
    public static let maxFileBytes = 4 << 20
    /// Longest ODL line, or ODL value continued over several lines, in bytes (64 KiB).
    public static let maxLineBytes = 64 << 10
    /// Deepest nesting of groups (ODL `GROUP`, JSON objects, XML elements).
    public static let maxNesting = 16
    /// Most `KEY = value` entries in one file.
    public static let maxEntries = 50_000
}
