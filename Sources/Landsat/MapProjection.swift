/// The map projection of a Landsat product as described by its MTL (`PROJECTION_ATTRIBUTES` in
/// Collection 2, `PROJECTION_PARAMETERS` in older files).
///
/// Informational: the authoritative CRS is the one in the band GeoTIFFs, read with GDAL by the
/// tiling code. Landsat uses UTM (WGS84) everywhere except Antarctica, where it uses polar
/// stereographic (`PS`, true-scale latitude −71°) (Landsat 8-9 OLI/TIRS C2 L1 DFCB, LSDS-1822).
public struct MapProjection: Sendable, Hashable {
    /// `MAP_PROJECTION`: `UTM`, `PS`, …
    public var name: String
    /// `DATUM` (`REFERENCE_DATUM` in old files), e.g. `WGS84`.
    public var datum: String?
    /// `ELLIPSOID` (`REFERENCE_ELLIPSOID`).
    public var ellipsoid: String?
    /// `UTM_ZONE` (`ZONE_NUMBER` in old files), 1…60; absent for polar stereographic. MTL zones carry
    /// no hemisphere: USGS delivers southern UTM scenes in the north zone with negative northings.
    public var utmZone: Int?
    /// Polar stereographic `VERTICAL_LON_FROM_POLE`, degrees.
    public var verticalLongitudeFromPole: Double?
    /// Polar stereographic `TRUE_SCALE_LAT`, degrees.
    public var trueScaleLatitude: Double?
    /// `FALSE_EASTING`, metres.
    public var falseEasting: Double?
    /// `FALSE_NORTHING`, metres.
    public var falseNorthing: Double?
    /// `GRID_CELL_SIZE_REFLECTIVE` (`GRID_CELL_SIZE_REF`): pixel size of the reflective bands, metres
    /// (30 for TM/ETM+/OLI, 60 for MSS).
    public var reflectiveCellSize: Double?
    /// `ORIENTATION` (`NORTH_UP`).
    public var orientation: String?

    public init(name: String, datum: String? = nil, ellipsoid: String? = nil, utmZone: Int? = nil,
                verticalLongitudeFromPole: Double? = nil, trueScaleLatitude: Double? = nil,
                falseEasting: Double? = nil, falseNorthing: Double? = nil, reflectiveCellSize: Double? = nil,
                orientation: String? = nil) {
        self.name = name; self.datum = datum; self.ellipsoid = ellipsoid; self.utmZone = utmZone
        self.verticalLongitudeFromPole = verticalLongitudeFromPole; self.trueScaleLatitude = trueScaleLatitude
        self.falseEasting = falseEasting; self.falseNorthing = falseNorthing
        self.reflectiveCellSize = reflectiveCellSize; self.orientation = orientation
    }

    /// True for `PS`/`POLAR_STEREOGRAPHIC`.
    public var isPolarStereographic: Bool { name == "PS" || name == "POLAR_STEREOGRAPHIC" }
}

/// A point in geographic coordinates, degrees (WGS84 as written in the MTL).
public struct GeographicPoint: Sendable, Hashable {
    public var latitude: Double
    public var longitude: Double
    public init(latitude: Double, longitude: Double) { self.latitude = latitude; self.longitude = longitude }
}

/// The four product corners from the MTL (`CORNER_UL_LAT_PRODUCT`, …; `PRODUCT_UL_CORNER_LAT` in old
/// files): latitude/longitude in degrees of the outer corners of the full product grid (upper-left,
/// upper-right, lower-left, lower-right), not of the imaged footprint.
public struct ProductCorners: Sendable, Hashable {
    public var upperLeft: GeographicPoint
    public var upperRight: GeographicPoint
    public var lowerLeft: GeographicPoint
    public var lowerRight: GeographicPoint

    public init(upperLeft: GeographicPoint, upperRight: GeographicPoint, lowerLeft: GeographicPoint, lowerRight: GeographicPoint) {
        self.upperLeft = upperLeft; self.upperRight = upperRight; self.lowerLeft = lowerLeft; self.lowerRight = lowerRight
    }

    /// The corners in the order UL, UR, LL, LR.
    public var all: [GeographicPoint] { [upperLeft, upperRight, lowerLeft, lowerRight] }
}

/// A linear rescaling `value = mult × DN + add` from the MTL (`REFLECTANCE_MULT_BAND_n`,
/// `REFLECTANCE_ADD_BAND_n`).
public struct LinearScaling: Sendable, Hashable {
    public var mult: Double
    public var add: Double
    public init(mult: Double, add: Double) { self.mult = mult; self.add = add }

    /// `mult × dn + add`.
    public func apply(_ dn: Double) -> Double { mult * dn + add }
}
