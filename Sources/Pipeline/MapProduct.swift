import Foundation
import GeoRaster

/// One output raster of `moemae map`, described as data: the row store layout (``MapOutputLayout``),
/// the raster writer (``MapRasters``), the STAC Item, the run summary's output list and the refusal of
/// existing outputs all iterate over ``MapProduct/all``. Adding a product is one description in
/// ``all`` plus its ``fill`` (the code that computes its values for one mapped tile).
///
/// File name: `<product>_<name>.tif` (Cloud Optimized GeoTIFF), plus `<product>_<name>.vrt` for
/// multi-band products whose bands carry a colour table (``Legend/experts``): TIFF holds a palette
/// only for single-band images, so a VRT beside the file gives every band its colour table and
/// category names (``PalettedVRT``).
public struct MapProduct: Sendable {
    /// Sample type of the raster; nodata is 255 for bytes and NaN for floats.
    public enum SampleType: Sendable {
        case uint8, float32
        /// Bytes per sample.
        public var size: Int { self == .uint8 ? 1 : 4 }
        public var rasterDataType: RasterDataType { self == .uint8 ? .uint8 : .float32 }
        /// The nodata value written into every band (and for skipped tiles).
        public var noData: Double { self == .uint8 ? Double(MapOutputLayout.byteNoData) : Double(MapOutputLayout.floatNoData) }
    }

    /// Output pixels per tile: ``tile`` = one pixel per 40×40 tile (scene geotransform × tile size);
    /// ``token`` = one pixel per patch token, 10×10 per tile (scene geotransform × patch size 4).
    public enum Grid: Sendable {
        case tile, token
        /// Output pixels along one side of a tile.
        public var pixelsPerTileSide: Int { self == .tile ? 1 : TileRouting.patchesPerSide }
    }

    /// Colour tables and category names of the bands.
    public enum Legend: Sendable {
        /// None (continuous values).
        case none
        /// The probe's classes and colours, in the (single-band) TIFF; the STAC asset lists the classes
        /// (classification extension).
        case classes
        /// Expert indices in ``MapRasters/expertColors``, in a VRT beside the TIFF (one palette per band).
        case experts
    }

    /// A band's description and, for ``Legend/experts``, the encoder layer whose experts it holds.
    public struct Band: Sendable, Equatable {
        public var description: String
        public var layer: Int?
    }

    /// STAC asset key and file-name suffix (`labels` → `<product>_labels.tif`).
    public let name: String
    public let sampleType: SampleType
    public let grid: Grid
    public let legend: Legend
    /// STAC asset title and roles.
    public let title: String
    public let roles: [String]
    /// The ``MapOptions`` field (command-line option) that asks for the product; nil when always written.
    public let option: String?
    /// Whether a run with `layout` writes the product.
    public let isWritten: @Sendable (MapOutputLayout) -> Bool
    /// Bands of the product for `layout` (only called when written).
    public let bandCount: @Sendable (MapOutputLayout) -> Int
    public let bands: @Sendable (MapOutputLayout) -> [Band]
    /// STAC asset description, or nil.
    public let assetDescription: @Sendable (MapOutputLayout) -> String?
    /// Writes the values of one mapped tile into its place in the product's part of a row record
    /// (skipped tiles keep nodata).
    public let fill: @Sendable (MappedTile, ProductRow) -> Void

    /// `<product>_<name>.tif`.
    public func fileName(product: String) -> String { "\(product)_\(name).tif" }
    /// `<product>_<name>.vrt` for ``Legend/experts``, else nil.
    public func legendFileName(product: String) -> String? { legend == .experts ? "\(product)_\(name).vrt" : nil }
    /// The files a scene gets for this product.
    public func fileNames(product: String) -> [String] { [fileName(product: product)] + (legendFileName(product: product).map { [$0] } ?? []) }

    /// Every product, in file, row-record and summary order.
    public static let all: [MapProduct] = [labels, experts, tokenExperts, scores, embeddings]

    /// The products written whatever the options (their names are refused when they exist already).
    public static var alwaysWritten: [MapProduct] { all.filter { $0.option == nil } }

    /// Land-cover labels: the probe's highest-scoring class per tile.
    public static let labels = MapProduct(
        name: "labels", sampleType: .uint8, grid: .tile, legend: .classes,
        title: "Land-cover labels (one pixel per 40×40 tile)", roles: ["data", "labels"], option: nil,
        isWritten: { _ in true }, bandCount: { _ in 1 },
        bands: { _ in [Band(description: "land-cover class (probe arg-max)", layer: nil)] },
        assetDescription: { _ in "Index of the probe's highest-scoring class; 255 = skipped tile (no valid pixels, or a valid fraction below the run's min-valid)." },
        fill: { tile, row in row.set(band: 0, x: tile.column, y: 0, tile.label) })

    /// Expert maps: per encoder layer, the expert most of the tile's 100 patch tokens chose first.
    public static let experts = MapProduct(
        name: "experts", sampleType: .uint8, grid: .tile, legend: .experts,
        title: "Expert maps (one band per encoder layer)", roles: ["data"], option: nil,
        isWritten: { _ in true }, bandCount: { $0.layers },
        bands: { layout in
            (0..<layout.layers).map {
                Band(description: "encoder layer \($0) (\(layout.expertsPerLayer[$0]) experts): majority top-1 expert of the 100 patch tokens", layer: $0)
            }
        },
        assetDescription: { _ in "Expert chosen first by most of the tile's 100 patch tokens (ties: lower index); 255 = skipped tile." },
        fill: { tile, row in
            let L = tile.layout.layers
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: L) { experts in
                TileRouting.majorityTopExpert(routing: tile.routing, layers: L, tokens: tile.layout.tokens, slots: tile.layout.slots, into: experts)
                for l in 0..<L { row.set(band: l, x: tile.column, y: 0, experts[l]) }
            }
        })

    /// Token expert maps: the top-1 expert of every patch token, for the layers of `--token-experts`.
    public static let tokenExperts = MapProduct(
        name: "token_experts", sampleType: .uint8, grid: .token, legend: .experts,
        title: "Token expert maps (one pixel per 4×4 source pixels)", roles: ["data"], option: "token-experts",
        isWritten: { !$0.tokenLayers.isEmpty }, bandCount: { $0.tokenLayers.count },
        bands: { layout in
            layout.tokenLayers.map {
                Band(description: "encoder layer \($0) (\(layout.expertsPerLayer[$0]) experts): top-1 expert of each patch token", layer: $0)
            }
        },
        assetDescription: { "Top-1 expert of every patch token for encoder layers \($0.tokenLayers.map(String.init).joined(separator: ", "))." },
        fill: { tile, row in
            let p = TileRouting.patchesPerSide
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: p * p) { patches in
                for (band, layer) in tile.layout.tokenLayers.enumerated() {
                    TileRouting.patchTopExperts(routing: tile.routing, layer: layer, tokens: tile.layout.tokens, slots: tile.layout.slots, into: patches)
                    // Patch (i, j) of tile column c is pixel (10c + j, i) of the tile row's 10 pixel rows.
                    for i in 0..<p {
                        for j in 0..<p { row.set(band: band, x: tile.column * p + j, y: i, patches[i * p + j]) }
                    }
                }
            }
        })

    /// Class probabilities (`--scores`): one Float32 band per probe class.
    public static let scores = MapProduct(
        name: "scores", sampleType: .float32, grid: .tile, legend: .none,
        title: "Class probabilities (one band per class)", roles: ["data"], option: "scores",
        isWritten: { $0.writeScores }, bandCount: { $0.classCount },
        bands: { $0.classNames.map { Band(description: $0, layer: nil) } },
        assetDescription: { _ in nil },
        fill: { tile, row in
            guard let s = tile.scores else { return }
            for (k, v) in s.enumerated() { row.set(band: k, x: tile.column, y: 0, v) }
        })

    /// Tile embeddings (`--embeddings`): one Float32 band per embedding dimension (the probe's feature).
    public static let embeddings = MapProduct(
        name: "embeddings", sampleType: .float32, grid: .tile, legend: .none,
        title: "Tile embeddings (one band per dimension)", roles: ["data"], option: "embeddings",
        isWritten: { $0.embeddingDimension != nil }, bandCount: { $0.embeddingDimension ?? 0 },
        bands: { layout in (0..<(layout.embeddingDimension ?? 0)).map { Band(description: "embedding dimension \($0)", layer: nil) } },
        assetDescription: { _ in nil },
        fill: { tile, row in
            guard let e = tile.embedding else { return }
            for (k, v) in e.enumerated() { row.set(band: k, x: tile.column, y: 0, v) }
        })
}

/// What the encoder produced for one mapped tile, handed to every product's ``MapProduct/fill``.
public struct MappedTile {
    public let layout: MapOutputLayout
    /// Tile column in the grid.
    public let column: Int
    /// Index of the highest-scoring probe class.
    public let label: UInt8
    /// `[L, T, K]` experts each token chose per encoder layer, best first.
    public let routing: UnsafeBufferPointer<UInt8>
    /// `[C]` class probabilities, when scores are kept.
    public let scores: ArraySlice<Float>?
    /// `[D]` the probe's feature, when embeddings are kept.
    public let embedding: ArraySlice<Float>?
}

/// A product's part of one row record: `bands` band-sequential planes of `height` pixel rows of `width`
/// samples (`height` = pixels per tile side, `width` = grid columns × that). Stores go through
/// unaligned raw stores: a part may start at any byte offset of the record.
public struct ProductRow {
    let base: UnsafeMutableRawPointer
    public let sampleType: MapProduct.SampleType
    public let bands: Int
    public let width: Int
    public let height: Int

    /// Bytes of one band plane.
    var planeBytes: Int { width * height * sampleType.size }

    private func offset(_ band: Int, _ x: Int, _ y: Int) -> Int {
        precondition(band >= 0 && band < bands && x >= 0 && x < width && y >= 0 && y < height,
                     "ProductRow: sample (band \(band), x \(x), y \(y)) outside \(bands)×\(height)×\(width)")
        return band * planeBytes + (y * width + x) * sampleType.size
    }

    public func set(band: Int, x: Int, y: Int, _ value: UInt8) {
        assert(sampleType == .uint8)
        base.storeBytes(of: value, toByteOffset: offset(band, x, y), as: UInt8.self)
    }

    public func set(band: Int, x: Int, y: Int, _ value: Float) {
        assert(sampleType == .float32)
        base.storeBytes(of: value, toByteOffset: offset(band, x, y), as: Float.self)
    }
}
