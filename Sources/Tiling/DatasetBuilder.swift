/// Turns scenes into a dataset folder: what `moemae tile` does, as a library call.
public enum DatasetBuilder {
    /// Progress after each tile row: scene index, tile row, rows in the scene, tiles written so far.
    public typealias Progress = (_ scene: Int, _ row: Int, _ rows: Int, _ tiles: Int) -> Void

    /// Tiles every source in order (streaming, one tile row at a time) into `output`.
    ///
    /// Opens and checks every scene before writing any tile, so a bad band file fails fast. On any
    /// error the partial output is removed and nothing with the final name exists (unless it existed
    /// before and `overwrite` was not set).
    ///
    /// `isCancelled` is polled before each scene check and each tile row (Ctrl-C in `moemae tile`):
    /// when it returns true the build stops, removes its temporary folder and throws a
    /// ``TilingError`` saying it was interrupted.
    @discardableResult
    public static func build(sources: [SceneSource], output: String, options: TilingOptions, layout: DatasetLayout = .safetensors,
                             shardSize: Int = 4096, overwrite: Bool = false, progress: Progress? = nil,
                             isCancelled: (() -> Bool)? = nil) throws -> DatasetManifest {
        guard !sources.isEmpty else { throw TilingError(path: output, "no scenes to tile") }
        try options.validate()
        func checkCancelled() throws {
            if isCancelled?() == true {
                throw TilingError(path: output, "interrupted; nothing was written", hint: "run the command again to tile the scenes")
            }
        }
        // The same scene twice would put every tile in the dataset twice (and overwrite its chips with
        // --format geotiff): refuse it before anything is written.
        var seen = Set<String>()
        for s in sources where !seen.insert("\(s.id)|\(s.region.map { "\($0)" } ?? "whole")").inserted {
            throw TilingError(path: s.metadataFiles.first ?? s.id, "scene \(s.id) is given more than once",
                              hint: "give each scene once (its tiles would be in the dataset twice)")
        }
        // Check every scene's files first (cheap: opens headers only).
        for s in sources {
            try checkCancelled()
            _ = try SceneRasters(source: s)
        }
        let writer = try DatasetWriter(path: output, options: options, layout: layout, shardSize: shardSize, overwrite: overwrite)
        do {
            for (i, s) in sources.enumerated() {
                let reader = try TileStripReader(source: s, options: options)
                let index = try writer.addScene(reader.rasters, grid: reader.grid)
                for r in 0..<reader.grid.rows {
                    try checkCancelled()
                    try writer.add(try reader.readRow(r), scene: index)
                    progress?(i, r, reader.grid.rows, writer.tileCount)
                }
            }
            return try writer.finish()
        } catch {
            writer.abort()
            throw error
        }
    }
}
