/// A batch of tiles ready for the model: z-scored pixels and encoded metadata (``InputEncoding``).
public struct EncoderBatch: Sendable {
    /// Number of tiles.
    public let count: Int
    /// `[count, C, S, S]` z-scored pixels.
    public var pixels: [Float]
    /// `[count, 8]` metadata vectors, or nil for "no metadata" (zero vectors).
    public var meta: [Float]?

    public init(count: Int, pixels: [Float], meta: [Float]?) {
        self.count = count; self.pixels = pixels; self.meta = meta
    }

    /// Encodes raw tile values (the tensors of a dataset shard) with `encoding`.
    /// - Parameters: `dn` `[count, C, S, S]` raw digital numbers in band order SR_B1…SR_B7; `week`, `hour`
    ///   (true UTC hour with fraction), `lat`, `lon` (degrees) per tile.
    public init(dn: [UInt16], channels: Int = 7, pixelsPerBand: Int = 1600, week: [Int], hour: [Double], lat: [Double], lon: [Double],
                encoding: InputEncoding) throws {
        let n = week.count
        guard dn.count == n * channels * pixelsPerBand, hour.count == n, lat.count == n, lon.count == n else {
            throw ModelError.invalidInput("batch of \(n) tiles needs \(n * channels * pixelsPerBand) pixels and \(n) hour/lat/lon values; got \(dn.count), \(hour.count), \(lat.count), \(lon.count)")
        }
        count = n
        pixels = encoding.normalize(dn, channels: channels, pixelsPerBand: pixelsPerBand)
        meta = encoding.metadata ? encoding.metadata(week: week, hour: hour, lat: lat, lon: lon) : nil
    }
}
