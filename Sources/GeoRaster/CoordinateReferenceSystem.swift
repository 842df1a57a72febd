import CGDAL

/// A coordinate reference system as text: WKT2 (ISO 19162:2019) plus its EPSG code when it has one.
///
/// A value type that can cross threads; the GDAL/OGR object behind it (``SpatialReference``) lives only
/// for the duration of one call.
public struct CoordinateReferenceSystem: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// WKT2_2019 as exported by `OSRExportToWktEx(FORMAT=WKT2_2019, MULTILINE=NO)`.
    public var wkt2: String
    /// The EPSG code (from the CRS's own `ID["EPSG",…]`, else `OSRAutoIdentifyEPSG`, else a PROJ
    /// database match with 100 % confidence), or nil (e.g. a custom projection).
    public var epsg: Int?
    /// The CRS's name (e.g. "WGS 84 / UTM zone 16N").
    public var name: String

    /// Parses any definition GDAL's `OSRSetFromUserInput` accepts: WKT1/WKT2, PROJ strings, `EPSG:n`,
    /// PROJJSON. Throws ``GeoRasterError`` (`.crs`) with GDAL's message when it cannot.
    public init(definition: String) throws {
        let srs = try SpatialReference(definition: definition)
        self = try srs.describe()
    }

    /// The CRS with EPSG code `code`, e.g. 4326 or 32616.
    public init(epsg code: Int) throws {
        try self.init(definition: "EPSG:\(code)")
    }

    init(wkt2: String, epsg: Int?, name: String) {
        self.wkt2 = wkt2; self.epsg = epsg; self.name = name
    }

    /// True when GDAL considers both the same CRS (`OSRIsSame`, ignoring axis-order metadata differences
    /// of the data-axis mapping).
    public func isSame(as other: CoordinateReferenceSystem) throws -> Bool {
        if wkt2 == other.wkt2 { return true }
        let a = try SpatialReference(definition: wkt2), b = try SpatialReference(definition: other.wkt2)
        return GDALCall.run { _ in OSRIsSame(a.handle, b.handle) != 0 }
    }

    public var description: String { epsg.map { "\(name) (EPSG:\($0))" } ?? name }
}

/// Owns an `OGRSpatialReferenceH` (released with `OSRRelease`). Internal: only used inside one call.
final class SpatialReference {
    let handle: OGRSpatialReferenceH

    /// Takes ownership of a handle (reference count already held by us).
    init(owning handle: OGRSpatialReferenceH) {
        self.handle = handle
        // Traditional GIS order (x = easting/longitude), as GDAL's raster API uses it.
        OSRSetAxisMappingStrategy(handle, OAMS_TRADITIONAL_GIS_ORDER)
    }

    convenience init(definition: String) throws {
        let h: OGRSpatialReferenceH = try GDALCall.run { log in
            guard let h = OSRNewSpatialReference(nil) else {
                throw GeoRasterError(.crs, "cannot allocate a spatial reference", libraryMessages: log.messages)
            }
            if OSRSetFromUserInput(h, definition) != OGRERR_NONE {
                OSRRelease(h)
                let shown = definition.count > 120 ? String(definition.prefix(120)) + "…" : definition
                throw GeoRasterError(.crs, "cannot parse the coordinate reference system '\(shown)'",
                                     libraryMessages: log.messages)
            }
            return h
        }
        self.init(owning: h)
    }

    deinit { OSRRelease(handle) }

    /// WKT2_2019, single line.
    func wkt2() throws -> String {
        try GDALCall.run { log in
            var out: UnsafeMutablePointer<CChar>?
            let options = CStringList(options: [("FORMAT", "WKT2_2019"), ("MULTILINE", "NO")])
            let err = OSRExportToWktEx(handle, &out, options.constPointer)
            defer { VSIFree(out) }
            guard err == OGRERR_NONE, let out else {
                throw GeoRasterError(.crs, "cannot export the coordinate reference system as WKT2", libraryMessages: log.messages)
            }
            return String(cString: out)
        }
    }

    /// The EPSG code: the CRS's own authority, else `OSRAutoIdentifyEPSG` on a clone, else the best
    /// PROJ database match (`OSRFindMatches`) when its confidence is 100 %.
    func epsgCode() -> Int? {
        GDALCall.run { _ in
            func authorityCode(_ h: OGRSpatialReferenceH) -> Int? {
                guard let name = OSRGetAuthorityName(h, nil), String(cString: name).uppercased() == "EPSG",
                      let code = OSRGetAuthorityCode(h, nil) else { return nil }
                return Int(String(cString: code))
            }
            if let c = authorityCode(handle) { return c }
            if let clone = OSRClone(handle) {
                defer { OSRRelease(clone) }
                if OSRAutoIdentifyEPSG(clone) == OGRERR_NONE, let c = authorityCode(clone) { return c }
            }
            var count: Int32 = 0
            var confidences: UnsafeMutablePointer<Int32>?
            guard let matches = OSRFindMatches(handle, nil, &count, &confidences) else { return nil }
            defer { OSRFreeSRSArray(matches); VSIFree(confidences) }
            if count > 0, let confidences, confidences[0] == 100, let best = matches[0] {
                return authorityCode(best)
            }
            return nil
        }
    }

    var name: String {
        GDALCall.run { _ in OSRGetName(handle).map { String(cString: $0) } ?? "unnamed CRS" }
    }

    func describe() throws -> CoordinateReferenceSystem {
        CoordinateReferenceSystem(wkt2: try wkt2(), epsg: epsgCode(), name: name)
    }
}
