/// One tile: raw digital numbers, per-pixel validity and metadata.
public struct Tile: Sendable, Equatable {
    public var metadata: TileMetadata
    /// Raw digital numbers, band-major `[bands, size, size]` (row-major within a band); fill (and
    /// padding outside the raster) is 0.
    public var pixels: [UInt16]
    /// 1 = valid, 0 = fill/nodata/padding, `[size, size]`.
    public var valid: [UInt8]
    /// Valid pixels / (size × size), over the full footprint (padding counts as invalid).
    public var validFraction: Double
    public var size: Int
    public var bandCount: Int

    public init(metadata: TileMetadata, pixels: [UInt16], valid: [UInt8], validFraction: Double, size: Int, bandCount: Int) {
        self.metadata = metadata; self.pixels = pixels; self.valid = valid; self.validFraction = validFraction
        self.size = size; self.bandCount = bandCount
    }
}
