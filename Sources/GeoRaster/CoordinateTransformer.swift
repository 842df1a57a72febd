import CPROJ

/// Transforms map coordinates of a raster's CRS to WGS 84 longitude/latitude in degrees through PROJ.
///
/// The operation is built with `proj_create_crs_to_crs_from_pj(source, EPSG:4326)` and then
/// `proj_normalize_for_visualization`, so input is always (x = easting, y = northing) in the order the
/// raster's geotransform uses, and output is always (longitude, latitude) — EPSG:4326's own axis order
/// is latitude first, which this normalisation handles explicitly. Longitudes are wrapped to [-180, 180].
/// Works for any projected CRS PROJ knows: UTM north zones with negative northings, polar
/// stereographic, national grids (PROJ picks the operation, datum shift included).
///
/// Owns its `PJ` and (unless one is passed in) its ``ProjContext``; use on one thread only.
public final class CoordinateTransformer {
    public let source: CoordinateReferenceSystem
    let context: ProjContext
    private let operation: OpaquePointer

    /// Throws ``GeoRasterError`` `.transform` with PROJ's message when no operation exists.
    public init(from source: CoordinateReferenceSystem, context: ProjContext = ProjContext()) throws {
        self.source = source
        self.context = context
        let ctx = context.handle
        context.resetErrors()
        guard let src = proj_create(ctx, source.wkt2) else {
            throw GeoRasterError(.transform, "PROJ cannot read the CRS '\(source.name)'", libraryMessages: context.takeMessages())
        }
        defer { proj_destroy(src) }
        guard let dst = proj_create(ctx, "EPSG:4326") else {
            throw GeoRasterError(.transform, "PROJ cannot create EPSG:4326 (is proj.db installed? Debian: proj-data)",
                                 libraryMessages: context.takeMessages())
        }
        defer { proj_destroy(dst) }
        guard let op = proj_create_crs_to_crs_from_pj(ctx, src, dst, nil, nil) else {
            throw GeoRasterError(.transform, "PROJ has no operation from '\(source.name)' to WGS 84", libraryMessages: context.takeMessages())
        }
        defer { proj_destroy(op) }
        guard let normalized = proj_normalize_for_visualization(ctx, op) else {
            throw GeoRasterError(.transform, "PROJ cannot normalise the axis order of '\(source.name)' → WGS 84",
                                 libraryMessages: context.takeMessages())
        }
        operation = normalized
    }

    deinit { proj_destroy(operation) }

    /// Longitude and latitude in degrees of map point (x, y). Throws `.transform` when PROJ fails
    /// (e.g. a point outside the projection's domain).
    public func lonLat(x: Double, y: Double) throws -> (lon: Double, lat: Double) {
        proj_errno_reset(operation)
        let out = proj_trans(operation, PJ_FWD, proj_coord(x, y, 0, 0))
        let lon = out.xy.x, lat = out.xy.y
        guard lon.isFinite, lat.isFinite, lon != .greatestFiniteMagnitude, abs(lat) <= 90 else {
            var messages = context.takeMessages()
            let code = proj_errno(operation)
            if code != 0, let s = proj_context_errno_string(context.handle, code), !messages.contains(String(cString: s)) {
                messages.append(String(cString: s))
            }
            throw GeoRasterError(.transform, "PROJ cannot transform (\(x), \(y)) from '\(source.name)' to WGS 84", libraryMessages: messages)
        }
        return (Self.wrapLongitude(lon), lat)
    }

    /// Map coordinates in the source CRS of WGS 84 (lon, lat) degrees (the inverse operation).
    /// Throws `.transform` when PROJ fails.
    public func xy(lon: Double, lat: Double) throws -> (x: Double, y: Double) {
        proj_errno_reset(operation)
        let out = proj_trans(operation, PJ_INV, proj_coord(lon, lat, 0, 0))
        guard out.xy.x.isFinite, out.xy.y.isFinite, out.xy.x != .greatestFiniteMagnitude else {
            var messages = context.takeMessages()
            let code = proj_errno(operation)
            if code != 0, let s = proj_context_errno_string(context.handle, code), !messages.contains(String(cString: s)) {
                messages.append(String(cString: s))
            }
            throw GeoRasterError(.transform, "PROJ cannot transform lon \(lon), lat \(lat) to '\(source.name)'", libraryMessages: messages)
        }
        return (out.xy.x, out.xy.y)
    }

    /// Longitude wrapped to [-180, 180].
    public static func wrapLongitude(_ lon: Double) -> Double {
        guard lon < -180 || lon > 180 else { return lon }
        var l = (lon + 180).truncatingRemainder(dividingBy: 360)
        if l < 0 { l += 360 }
        return l - 180
    }
}

@available(*, unavailable, message: "PROJ objects must not be shared across threads")
extension CoordinateTransformer: Sendable {}
