import Foundation

/// Raster rows of several planes (the bands and the QA band of a scene), read from GDAL in whole
/// block rows and kept until the tile strips have moved past them.
///
/// GeoTIFFs store pixels in blocks (strips of a few rows, or tiles such as 256×256; GDAL data model,
/// "Raster Band": block size). ``ensure(_:read:)`` extends the buffer downwards with windows that
/// start where the previous one ended and end on a block boundary (or the region's bottom), so every
/// row — and every block — of the region is requested from GDAL exactly once, however the tile size
/// and the block height relate (40-row strips over 256-row blocks, 6-row strips, …). Rows above the
/// current strip are dropped. Memory: planes × (strip height + block height) × width × 2 bytes
/// (8 × 296 × 7,800 × 2 ≈ 37 MB for a full scene with 256-row blocks); files whose blocks are so tall
/// that this would exceed `maxBytes` (e.g. one strip for the whole image) are read strip by strip.
struct BlockRowBuffer {
    let planes: Int
    /// Columns per row (the width of every window read).
    let width: Int
    /// Block height used to align reads (1 when reads are not aligned: see `maxBytes`).
    let blockHeight: Int
    /// The region's rows: nothing outside is read.
    let regionRows: Range<Int>
    /// The buffer holds at most this many rows per plane.
    let capacity: Int
    /// Rows held now (raster coordinates).
    private(set) var rows: Range<Int>
    /// Every window read, in order (row ranges; the same for each plane). Tests check alignment.
    private(set) var reads: [Range<Int>] = []
    private var data: [UInt16]

    init(planes: Int, width: Int, blockHeight: Int, stripHeight: Int, regionRows: Range<Int>, maxBytes: Int = 256 << 20) {
        let aligned = planes * (stripHeight + blockHeight) * width * 2 <= maxBytes
        self.planes = planes; self.width = width; self.regionRows = regionRows
        self.blockHeight = aligned ? max(blockHeight, 1) : 1
        capacity = stripHeight + self.blockHeight
        rows = regionRows.lowerBound..<regionRows.lowerBound
        data = [UInt16](repeating: 0, count: planes * capacity * width)
    }

    /// Makes `needed` (at most `stripHeight` rows inside the region) resident, calling `read` for each
    /// plane with the new row range and the buffer to fill (`width` values per row). Strips asked for
    /// top to bottom are served from block-aligned reads that never overlap; any other order still
    /// works (reading starts afresh at `needed`).
    mutating func ensure(_ needed: Range<Int>, read: (_ plane: Int, _ rows: Range<Int>, _ into: UnsafeMutableBufferPointer<UInt16>) throws -> Void) throws {
        if needed.lowerBound >= rows.lowerBound, needed.upperBound <= rows.upperBound { return }
        if needed.lowerBound < rows.lowerBound || needed.lowerBound > rows.upperBound {
            rows = needed.lowerBound..<needed.lowerBound
        }
        // Drop rows above `needed`; move the rest to the front of each plane.
        let kept = rows.upperBound - needed.lowerBound
        let (w, cap) = (width, capacity)
        if kept > 0, needed.lowerBound > rows.lowerBound {
            let shift = needed.lowerBound - rows.lowerBound
            data.withUnsafeMutableBufferPointer { d in
                for p in 0..<planes {
                    let base = d.baseAddress! + p * cap * w
                    memmove(base, base + shift * w, kept * w * MemoryLayout<UInt16>.stride)
                }
            }
        }
        let start = rows.upperBound
        let blockEnd = (needed.upperBound + blockHeight - 1) / blockHeight * blockHeight
        let end = min(blockEnd, regionRows.upperBound)
        let newRows = start..<end
        let offset = kept
        try data.withUnsafeMutableBufferPointer { d in
            for p in 0..<planes {
                let target = UnsafeMutableBufferPointer(rebasing: d[(p * cap + offset) * w ..< (p * cap + offset + newRows.count) * w])
                try read(p, newRows, target)
            }
        }
        reads.append(newRows)
        rows = needed.lowerBound..<end
    }

    /// Copies `range` (resident rows) of `plane` into `target`, row y at `target[y * lineStride]`.
    func copy(_ range: Range<Int>, plane: Int, into target: UnsafeMutableBufferPointer<UInt16>, lineStride: Int) {
        data.withUnsafeBufferPointer { d in
            for (y, r) in range.enumerated() {
                let src = (plane * capacity + r - rows.lowerBound) * width
                for x in 0..<width { target[y * lineStride + x] = d[src + x] }
            }
        }
    }
}
