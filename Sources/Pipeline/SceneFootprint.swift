import GeoRaster

/// The outline of a raster in WGS 84 longitude/latitude, for the STAC Item's geometry and bbox.
public enum SceneFootprint {
    /// The raster's pixel extent (`width`×`height` pixels of `geoTransform`) as a closed ring of
    /// [longitude, latitude] degrees, each edge densified with `pointsPerEdge` points so curved edges of
    /// the projected outline (polar stereographic, large UTM scenes) are followed. Counter-clockwise as
    /// RFC 7946 asks for exterior rings when the geotransform is north-up with negative pixel height.
    /// Throws ``GeoRasterError`` when PROJ cannot transform a point.
    public static func lonLatRing(crs: CoordinateReferenceSystem, geoTransform t: GeoTransform, width: Int, height: Int,
                                  pointsPerEdge: Int = 16) throws -> [[Double]] {
        let transformer = try CoordinateTransformer(from: crs)
        let n = max(1, pointsPerEdge)
        var pixels: [(Double, Double)] = []
        let w = Double(width), h = Double(height)
        // bottom-left → bottom-right → top-right → top-left: counter-clockwise on the map for north-up rasters.
        for i in 0..<n { pixels.append((w * Double(i) / Double(n), h)) }
        for i in 0..<n { pixels.append((w, h - h * Double(i) / Double(n))) }
        for i in 0..<n { pixels.append((w - w * Double(i) / Double(n), 0)) }
        for i in 0..<n { pixels.append((0, h * Double(i) / Double(n))) }
        var ring: [[Double]] = []
        for (c, r) in pixels {
            let (x, y) = t.apply(column: c, row: r)
            let ll = try transformer.lonLat(x: x, y: y)
            ring.append([ll.lon, ll.lat])
        }
        ring.append(ring[0])
        return ring
    }
}
