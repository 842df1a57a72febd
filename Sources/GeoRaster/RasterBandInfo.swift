/// What GDAL reports about one band of a raster.
public struct RasterBandInfo: Sendable, Equatable {
    /// 1-based band index, as GDAL counts bands.
    public var index: Int
    /// Pixel type, or nil for a type we do not handle (e.g. complex).
    public var dataType: RasterDataType?
    /// Natural block size (`GDALGetBlockSize`): the unit GDAL reads and caches. A strip-organised
    /// GeoTIFF has blocks `width`×(rows per strip); a tiled one e.g. 256×256.
    public var blockWidth: Int
    public var blockHeight: Int
    /// The nodata value (`GDALGetRasterNoDataValue`), or nil when none is set.
    public var nodata: Double?
    /// The band description (`GDALGetDescription` of the band), "" when unset.
    public var description: String
}
