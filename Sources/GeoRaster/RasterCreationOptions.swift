/// How ``RasterWriter`` lays out a new GeoTIFF (GDAL GTiff and COG driver creation options,
/// https://gdal.org/drivers/raster/gtiff.html and https://gdal.org/drivers/raster/cog.html).
public struct RasterCreationOptions: Sendable, Equatable {
    /// Plain GeoTIFF (GTiff driver) or Cloud Optimized GeoTIFF (COG driver: tiled, overviews,
    /// header and overviews laid out for HTTP range reads).
    public enum Layout: String, Sendable, Equatable { case geoTIFF, cloudOptimizedGeoTIFF }

    /// TIFF compression codec (`COMPRESS=`).
    public enum Compression: String, Sendable, Equatable {
        case none = "NONE", deflate = "DEFLATE", lzw = "LZW", zstd = "ZSTD"
    }

    /// Overview resampling for COG output (`RESAMPLING=` / `OVERVIEW_RESAMPLING=`): `nearest` for class
    /// labels and expert indices, `average` for continuous values.
    public enum OverviewResampling: String, Sendable, Equatable { case nearest = "NEAREST", average = "AVERAGE", mode = "MODE" }

    public var layout: Layout
    public var compression: Compression
    /// `PREDICTOR=2` (horizontal differencing) helps integer data compress; 3 is for floating point.
    public var predictor: Int?
    /// Tiled rather than striped (always tiled for COG).
    public var tiled: Bool
    /// Tile edge in pixels when tiled (multiple of 16).
    public var blockSize: Int
    /// Overview resampling, COG only.
    public var overviewResampling: OverviewResampling
    /// Any further `KEY=VALUE` creation options, passed through unchanged.
    public var extra: [String: String]

    public init(layout: Layout = .geoTIFF, compression: Compression = .deflate, predictor: Int? = nil, tiled: Bool = false,
                blockSize: Int = 256, overviewResampling: OverviewResampling = .nearest, extra: [String: String] = [:]) {
        self.layout = layout; self.compression = compression; self.predictor = predictor; self.tiled = tiled
        self.blockSize = blockSize; self.overviewResampling = overviewResampling; self.extra = extra
    }

    /// Small uncompressed striped GeoTIFF (e.g. 40×40 chips).
    public static let plain = RasterCreationOptions(compression: .none)
    /// Cloud Optimized GeoTIFF with DEFLATE and nearest-neighbour overviews (label and index maps).
    public static let cog = RasterCreationOptions(layout: .cloudOptimizedGeoTIFF, compression: .deflate, tiled: true, blockSize: 512)

    /// GTiff creation options for the file written first, a `width`×`height` raster.
    func gtiffOptions(width: Int, height: Int) -> [(String, String)] {
        var o: [(String, String)] = []
        if layout == .cloudOptimizedGeoTIFF {
            // Intermediate file, copied into the COG at the end: fast to write (uncompressed), tiled. Its
            // tiles are no larger than the raster (rounded up to a multiple of 16, as TIFF requires): GDAL
            // writes every uncompressed tile in full, so a 512×512 tile of a 13×13 map would take 256 KiB
            // per byte band on disk (108 MiB for 108 Float32 embedding bands) instead of 1 KiB.
            let bx = min(blockSize, Self.multipleOf16(width)), by = min(blockSize, Self.multipleOf16(height))
            o += [("TILED", "YES"), ("BLOCKXSIZE", "\(bx)"), ("BLOCKYSIZE", "\(by)"), ("COMPRESS", "NONE"), ("BIGTIFF", "IF_SAFER")]
            return o
        }
        o.append(("COMPRESS", compression.rawValue))
        if let predictor, compression != .none { o.append(("PREDICTOR", "\(predictor)")) }
        if tiled { o += [("TILED", "YES"), ("BLOCKXSIZE", "\(blockSize)"), ("BLOCKYSIZE", "\(blockSize)")] }
        o.append(("BIGTIFF", "IF_SAFER"))
        for k in extra.keys.sorted() { o.append((k, extra[k]!)) }
        return o
    }

    static func multipleOf16(_ n: Int) -> Int { max(16, (n + 15) / 16 * 16) }

    /// COG driver creation options for `GDALCreateCopy`.
    var cogOptions: [(String, String)] {
        var o: [(String, String)] = [("COMPRESS", compression.rawValue), ("BLOCKSIZE", "\(blockSize)"),
                                     ("RESAMPLING", overviewResampling.rawValue), ("BIGTIFF", "IF_SAFER")]
        if let predictor, compression != .none { o.append(("PREDICTOR", "\(predictor)")) }
        for k in extra.keys.sorted() { o.append((k, extra[k]!)) }
        return o
    }
}

/// One colour-table entry (GDAL `GDALColorEntry`, RGB interpretation).
public struct ColorEntry: Sendable, Equatable, Hashable, Codable {
    public var red: UInt8, green: UInt8, blue: UInt8, alpha: UInt8
    public init(red: UInt8, green: UInt8, blue: UInt8, alpha: UInt8 = 255) {
        self.red = red; self.green = green; self.blue = blue; self.alpha = alpha
    }
}
