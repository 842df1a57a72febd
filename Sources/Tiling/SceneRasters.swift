import Foundation
import GeoRaster

/// The opened rasters of one scene: every band file and the QA file, checked to share one pixel grid.
///
/// Owns GDAL dataset handles (one per distinct file): use on one thread only.
public final class SceneRasters {
    public let source: SceneSource
    public let width: Int
    public let height: Int
    public let geoTransform: GeoTransform
    public let crs: CoordinateReferenceSystem
    /// Each band's nodata value, in ``SceneSource/bands`` order (nil when unset).
    public let nodata: [Double?]
    /// Block height of the first band (GDAL's natural read unit).
    public let blockHeight: Int
    private let datasets: [String: RasterDataset]

    /// Opens every file and checks that all share size, geotransform and CRS; throws a ``TilingError``
    /// naming the file (and, for mismatches, both files).
    public init(source: SceneSource) throws {
        self.source = source
        guard let first = source.bands.first else {
            throw TilingError(path: source.id, "the scene has no bands to read")
        }
        var datasets: [String: RasterDataset] = [:]
        func open(_ path: String, _ name: String) throws -> RasterDataset {
            if let d = datasets[path] { return d }
            do {
                let d = try RasterDataset(path: path)
                datasets[path] = d
                return d
            } catch let e as GeoRasterError {
                let remote = RemoteLocation.isRemote(path)
                throw TilingError(path: RemoteLocation.displayURL(path),
                                  "cannot open band \(name) (\(e.message)\(e.libraryMessages.isEmpty ? "" : ": " + e.libraryMessages.joined(separator: "; ")))",
                                  hint: (remote ? CloudConfiguration.hint(for: path, messages: e.libraryMessages) : nil)
                                      ?? "check that the file exists and is a complete GeoTIFF; download the scene again if it is truncated")
            }
        }
        let reference = try open(first.path, first.name)
        guard let gt = reference.geoTransform else {
            throw TilingError(path: first.path, "has no geotransform", hint: "tiles need georeferenced rasters (a GeoTIFF with its georeferencing)")
        }
        let crs: CoordinateReferenceSystem
        do {
            guard let c = try reference.crs() else {
                throw TilingError(path: first.path, "has no coordinate reference system", hint: "tiles need georeferenced rasters")
            }
            crs = c
        } catch let e as GeoRasterError { throw TilingError(path: first.path, e.description) }

        var nodata: [Double?] = []
        let all = source.bands.map { ($0.path, $0.band, $0.name) } + (source.qaFile.map { [($0, 1, "QA")] } ?? [])
        for (path, bandIndex, name) in all {
            let d = try open(path, name)
            guard d.width == reference.width, d.height == reference.height else {
                throw TilingError(path: path, "is \(d.width)×\(d.height) pixels but \(first.path) is \(reference.width)×\(reference.height)",
                                  hint: "all bands of a scene must share one pixel grid; bands of another resolution (e.g. panchromatic) cannot be tiled together")
            }
            if d !== reference {
                guard let g = d.geoTransform, g.isClose(to: gt) else {
                    throw TilingError(path: path, "has geotransform \(d.geoTransform?.gdal.description ?? "none") but \(first.path) has \(gt.gdal)",
                                      hint: "all bands of a scene must share one pixel grid")
                }
                let same: Bool
                do { same = try d.crs().map { try $0.isSame(as: crs) } ?? false } catch { same = false }
                guard same else {
                    throw TilingError(path: path, "has a different coordinate reference system from \(first.path) (\(crs.name))",
                                      hint: "all bands of a scene must share one CRS")
                }
            }
            let info: RasterBandInfo
            do { info = try d.band(bandIndex) } catch let e as GeoRasterError {
                throw TilingError(path: path, "\(e.message) (band '\(name)')")
            }
            guard info.dataType == .uint16 || info.dataType == .uint8 else {
                throw TilingError(path: path, "band \(bandIndex) ('\(name)') is \(info.dataType?.rawValue ?? "an unsupported type"), not unsigned 16-bit digital numbers",
                                  hint: "moemae tiles Landsat digital numbers (uint16)")
            }
            if name != "QA" { nodata.append(info.nodata) }
        }
        self.datasets = datasets
        width = reference.width; height = reference.height
        geoTransform = gt; self.crs = crs; self.nodata = nodata
        blockHeight = (try? reference.band(first.band).blockHeight) ?? 1
    }

    /// Reads `window` of band `index` (0-based in ``SceneSource/bands``) into `buffer` with `lineStride`.
    public func readBand(_ index: Int, window: RasterWindow, into buffer: UnsafeMutableBufferPointer<UInt16>, lineStride: Int) throws {
        let b = source.bands[index]
        try read(path: b.path, band: b.band, name: b.name, window: window, into: buffer, lineStride: lineStride)
    }

    /// Reads `window` of the QA band; false when the scene has none.
    public func readQA(window: RasterWindow, into buffer: UnsafeMutableBufferPointer<UInt16>, lineStride: Int) throws -> Bool {
        guard let qa = source.qaFile else { return false }
        try read(path: qa, band: 1, name: "QA", window: window, into: buffer, lineStride: lineStride)
        return true
    }

    private func read(path: String, band: Int, name: String, window: RasterWindow, into buffer: UnsafeMutableBufferPointer<UInt16>, lineStride: Int) throws {
        guard let d = datasets[path] else { throw TilingError(path: path, "was not opened") }
        do {
            try d.read(band: band, window: window, into: buffer, lineStride: lineStride)
        } catch let e as GeoRasterError {
            let remote = RemoteLocation.isRemote(path)
            throw TilingError(path: RemoteLocation.displayURL(path),
                              "cannot read pixels \(window) of band \(name) (\(e.libraryMessages.isEmpty ? e.message : e.libraryMessages.joined(separator: "; ")))",
                              hint: (remote ? CloudConfiguration.hint(for: path, messages: e.libraryMessages) : nil)
                                  ?? (remote ? "the object is probably truncated, or the server stopped answering; check it, then run again"
                                      : "the file is probably truncated or corrupt; download the scene again"),
                              settings: remote ? [.resume] : [])
        }
    }
}

@available(*, unavailable, message: "owns GDAL handles: one per thread")
extension SceneRasters: Sendable {}
