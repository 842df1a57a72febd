import CGDAL

/// Pixel data types we read and write (GDAL's `GDALDataType`, gdal.h).
public enum RasterDataType: String, Sendable, Codable, CaseIterable {
    case uint8, int8, uint16, int16, uint32, int32, float32, float64

    var gdal: GDALDataType {
        switch self {
        case .uint8: return GDT_Byte
        case .int8: return GDT_Byte  // GDAL 3.6 has no GDT_Int8; signed bytes use PIXELTYPE=SIGNEDBYTE
        case .uint16: return GDT_UInt16
        case .int16: return GDT_Int16
        case .uint32: return GDT_UInt32
        case .int32: return GDT_Int32
        case .float32: return GDT_Float32
        case .float64: return GDT_Float64
        }
    }

    init?(gdal: GDALDataType) {
        switch gdal {
        case GDT_Byte: self = .uint8
        case GDT_UInt16: self = .uint16
        case GDT_Int16: self = .int16
        case GDT_UInt32: self = .uint32
        case GDT_Int32: self = .int32
        case GDT_Float32: self = .float32
        case GDT_Float64: self = .float64
        default: return nil
        }
    }

    /// Bytes per pixel.
    public var size: Int {
        switch self {
        case .uint8, .int8: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .float64: return 8
        }
    }
}

/// A Swift scalar that GDAL can read into or write from (`GDALRasterIO` converts between types).
public protocol RasterScalar: Numeric, Sendable {
    static var rasterDataType: RasterDataType { get }
}

extension UInt8: RasterScalar { public static var rasterDataType: RasterDataType { .uint8 } }
extension UInt16: RasterScalar { public static var rasterDataType: RasterDataType { .uint16 } }
extension Int16: RasterScalar { public static var rasterDataType: RasterDataType { .int16 } }
extension UInt32: RasterScalar { public static var rasterDataType: RasterDataType { .uint32 } }
extension Int32: RasterScalar { public static var rasterDataType: RasterDataType { .int32 } }
extension Float: RasterScalar { public static var rasterDataType: RasterDataType { .float32 } }
extension Double: RasterScalar { public static var rasterDataType: RasterDataType { .float64 } }
