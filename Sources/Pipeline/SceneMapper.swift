import Diagnostics
import Foundation
import GeoRaster
import Tiling

/// The facts about a scene that its map outputs need.
public struct MapScene: Sendable {
    /// Landsat product id: the prefix of every output file.
    public var product: String
    public var acquired: Date
    public var crs: CoordinateReferenceSystem
    public var geoTransform: GeoTransform
    public var width: Int
    public var height: Int
    public var tileSize: Int
    /// Files read (for the resume fingerprint).
    public var inputFiles: [String]
    /// STAC `platform` (e.g. `landsat-8`) and `instruments` (e.g. `oli`, `tirs`), when known.
    public var platform: String?
    public var instruments: [String]?
    /// Red, green and blue surface-reflectance band files (same grid) for the true-colour quick-look of
    /// `--preview`; nil when the scene has none (not C2 L2 SR).
    public var trueColorBands: [String]?
    /// The STAC Item the scene was read from: linked as `derived_from`, its `landsat:*`/`view:*` kept.
    public var provenance: SceneProvenance?

    public init(product: String, acquired: Date, crs: CoordinateReferenceSystem, geoTransform: GeoTransform, width: Int,
                height: Int, tileSize: Int = 40, inputFiles: [String], platform: String? = nil, instruments: [String]? = nil,
                trueColorBands: [String]? = nil, provenance: SceneProvenance? = nil) {
        self.product = product; self.acquired = acquired; self.crs = crs; self.geoTransform = geoTransform
        self.width = width; self.height = height; self.tileSize = tileSize; self.inputFiles = inputFiles
        self.platform = platform; self.instruments = instruments; self.trueColorBands = trueColorBands
        self.provenance = provenance
    }

    /// ``inputFiles`` as the user knows them: remote files as `s3://`/`https://` URLs.
    public var sourceURLs: [String] { inputFiles.map(RemoteLocation.displayURL) }
}

/// What mapping one scene produced.
public struct SceneMapResult {
    public var summary: RunSummary.Scene
    public var timings: [StageTiming]
    public var item: STACItem
    /// Final paths of the files written.
    public var files: [String]
}

/// Maps one scene: runs reader → tiler → batcher → encoder ×N → writer on bounded queues, then builds
/// the rasters, the STAC Item and the scene summary, and publishes them all at once
/// (``OutputTransaction``). See docs/pipeline.md.
public enum SceneMapper {
    /// Notes printed on stderr (resume decisions), unless quiet.
    public typealias Note = (Notice) -> Void

    public static func run<Source: SceneTileSource>(
        scene: MapScene, source: Source, layout: MapOutputLayout, options: MapOptions, fingerprint: String,
        cancellation: CancellationToken, progressMode: ProgressReporter.Mode, runFacts: [String: String] = [:],
        note: Note = { FileHandle.standardError.write(Data("\($0)\n".utf8)) },
        makeEncoder: @escaping (Int) throws -> TileBatchEncoder
    ) throws -> SceneMapResult {
        let started = DispatchTime.now().uptimeNanoseconds
        let rasters = MapRasters(layout: layout, crs: scene.crs, sceneGeoTransform: scene.geoTransform,
                                 tileSize: scene.tileSize, product: scene.product)
        let itemName = "\(scene.product).stac.json"
        let summaryName = "\(scene.product)_summary.json"
        let previews = options.preview ? MapPreviews(rasters: rasters, scene: scene) : nil
        let outputNames = rasters.fileNames + (previews?.fileNames ?? []) + [itemName, summaryName]

        // Resume: a scene published by an earlier run with the same fingerprint is complete; keep it.
        if options.resume && !options.overwrite,
           let done = completedEarlier(product: scene.product, outputNames: outputNames, itemName: itemName,
                                       summaryName: summaryName, out: options.out, fingerprint: fingerprint) {
            note("\(scene.product): already complete (same inputs and options); kept its outputs")
            return done
        }

        let tx = try OutputTransaction(directory: options.out, scene: scene.product, keepExisting: options.resume)
        let existing = tx.existingFinalOutputs(outputNames)
        if !existing.isEmpty && !options.overwrite {
            if !options.resume { tx.abort() }
            throw OutputExists(path: tx.finalPath(for: existing[0]), detail: "\(existing.count) of this scene's outputs do")
        }

        // Resume: keep the finished rows of a matching interrupted run.
        let progressPath = tx.scratchPath(ResumeState.fileName)
        let storePath = tx.scratchPath("rows.bin")
        var startRow = 0
        var committed = SceneStatistics(classCount: layout.classCount, expertsPerLayer: layout.expertsPerLayer)
        if options.resume {
            if let state = ResumeState.matching(at: progressPath, fingerprint: fingerprint, gridRows: layout.gridRows, gridCols: layout.gridCols),
               state.statistics.classCounts.count == layout.classCount {
                startRow = state.finishedRows
                committed = state.statistics
                note("\(scene.product): resuming at tile row \(startRow) of \(layout.gridRows)")
            } else if FileManager.default.fileExists(atPath: progressPath) {
                note("\(scene.product): the partial run in \(tx.stagingDirectory) used other inputs or options; starting afresh")
            }
        }
        let store: RowStore
        do {
            store = try RowStore(path: storePath, recordBytes: layout.recordBytes, keepRecords: startRow > 0 ? startRow : nil)
        } catch {
            tx.abort(); throw error
        }
        var checkpointed = startRow > 0

        var timings: [StageTiming] = []
        var statistics = committed
        do {
            if startRow < layout.gridRows {
                let (t, s, saved) = try runStages(source: source, layout: layout, options: options, fingerprint: fingerprint,
                                                  startRow: startRow, committed: committed, store: store, progressPath: progressPath,
                                                  cancellation: cancellation, progressMode: progressMode, label: scene.product,
                                                  makeEncoder: makeEncoder)
                timings = t; statistics = s; checkpointed = checkpointed || saved
            }
            try cancellation.check()
            let rasterStart = DispatchTime.now().uptimeNanoseconds
            for name in try rasters.write(from: store, into: tx.stagingDirectory, cancellation: cancellation) {
                _ = tx.stagingPath(for: name)   // publish it with the scene
            }
            for name in try previews?.write(into: tx.stagingDirectory) ?? [] {
                _ = tx.stagingPath(for: name)
            }
            timings.append(StageTiming(stage: "rasters", workers: 1, items: rasters.fileNames.count,
                                       wallSeconds: seconds(since: rasterStart), busySeconds: seconds(since: rasterStart),
                                       waitInputSeconds: 0, waitOutputSeconds: 0))
        } catch {
            // Keep the staging folder when it holds checkpointed rows (`--resume` continues from them).
            if checkpointed || FileManager.default.fileExists(atPath: progressPath) {
                note(Notice(.note, "\(scene.product): partial results kept in \(tx.stagingDirectory)", settings: [.resume]))
            } else {
                tx.abort()
            }
            throw error
        }

        let published = tx.finalNames + [itemName, summaryName]
        var summary = RunSummary.Scene(
            id: scene.product, tilesRead: layout.gridRows * layout.gridCols, tilesMapped: statistics.tilesMapped,
            skipped: statistics.skipped,
            classHistogram: layout.classNames.enumerated().map { .init(value: $0, name: $1, tiles: statistics.classCounts[$0]) },
            experts: statistics.expertUsage.layers, outputs: published, resumedRows: startRow,
            wallSeconds: seconds(since: started))
        summary.runFingerprint = fingerprint
        summary.sources = scene.sourceURLs

        // The Item carries the fingerprint: `moemae gather` and sharded runs tell a complete scene of these
        // inputs and options from one made otherwise without opening any raster.
        var facts = runFacts
        facts["run_fingerprint"] = fingerprint
        let item = try stacItem(scene: scene, layout: layout, rasters: rasters, previews: previews, summaryName: summaryName, runFacts: facts)
        do {
            let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try writeAtomically(try e.encode(summary), to: tx.stagingPath(for: summaryName))
            // Staged last, so published last: a final-named Item means every other output is in place.
            try writeAtomically(try item.jsonData(), to: tx.stagingPath(for: itemName))
            try? FileManager.default.removeItem(atPath: storePath)
            try? FileManager.default.removeItem(atPath: progressPath)
            try tx.commit()
        } catch {
            // A full disk while writing the JSON files: the mapped rows are still checkpointed, keep them.
            if FileManager.default.fileExists(atPath: progressPath) && FileManager.default.fileExists(atPath: storePath) {
                note(Notice(.note, "\(scene.product): partial results kept in \(tx.stagingDirectory)", settings: [.resume]))
            } else {
                tx.abort()
            }
            throw error
        }
        return SceneMapResult(summary: summary, timings: timings, item: item, files: published.map { tx.finalPath(for: $0) })
    }

    /// The result of an earlier run that published every output of this scene with the same run
    /// fingerprint (recorded in `<product>_summary.json`), or nil when some output is missing, the summary
    /// cannot be read, or it was made with other inputs or options (then the caller refuses the existing
    /// outputs unless `--overwrite`). Nothing is written or removed.
    static func completedEarlier(product: String, outputNames: [String], itemName: String, summaryName: String,
                                 out: String, fingerprint: String) -> SceneMapResult? {
        let path = { (name: String) in (out as NSString).appendingPathComponent(name) }
        guard outputNames.allSatisfy({ FileManager.default.fileExists(atPath: path($0)) }),
              let summaryData = FileManager.default.contents(atPath: path(summaryName)),
              var summary = try? JSONDecoder().decode(RunSummary.Scene.self, from: summaryData),
              summary.id == product, summary.runFingerprint == fingerprint,
              let itemData = FileManager.default.contents(atPath: path(itemName)),
              let item = try? JSONDecoder().decode(STACItem.self, from: itemData) else { return nil }
        summary.alreadyComplete = true
        return SceneMapResult(summary: summary, timings: [], item: item, files: summary.outputs.map(path))
    }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Runs the stages over tile rows `startRow...`; returns timings, the final statistics and whether a
    /// checkpoint was saved.
    static func runStages<Source: SceneTileSource>(
        source: Source, layout: MapOutputLayout, options: MapOptions, fingerprint: String, startRow: Int,
        committed: SceneStatistics, store: RowStore, progressPath: String, cancellation: CancellationToken,
        progressMode: ProgressReporter.Mode, label: String, makeEncoder: @escaping (Int) throws -> TileBatchEncoder
    ) throws -> ([StageTiming], SceneStatistics, Bool) {
        let depth = options.queueDepth, workers = options.workers
        let pipeline = StagePipeline(cancellation: cancellation)
        let strips = BoundedQueue<Source.Strip>(capacity: depth, cancellation: cancellation)
        let tiled = BoundedQueue<TileStrip>(capacity: depth, cancellation: cancellation)
        let batches = BoundedQueue<TileBatch>(capacity: depth, cancellation: cancellation)
        let results = BoundedQueue<BatchResult>(capacity: depth, producers: workers, cancellation: cancellation)
        // Batches alive between batcher and writer: in the queues, in the workers, in the reorder buffer.
        let window = InFlightWindow(limit: 2 * depth + workers, cancellation: cancellation)
        let remainingTiles = (layout.gridRows - startRow) * layout.gridCols
        let progress = ProgressReporter(total: remainingTiles, label: label, mode: progressMode)
        let outcome = WriterOutcome(statistics: committed)

        pipeline.addStage("reader", finishing: [strips]) { ctx in
            var row = startRow
            let step = max(1, source.rowsPerStrip)
            while row < layout.gridRows {
                try ctx.checkCancelled()
                let rows = row..<min(layout.gridRows, row + step)
                try ctx.send(try source.read(rows: rows), to: strips)
                row = rows.upperBound
            }
        }
        pipeline.addStage("tiler", finishing: [tiled]) { ctx in
            while let strip = try ctx.receive(strips) {
                try ctx.send(try source.tiles(from: strip, minValid: options.minValid), to: tiled)
            }
        }
        pipeline.addStage("batcher", finishing: [batches]) { ctx in
            var batcher: TileBatcher?
            func emit(_ b: TileBatch) throws {
                try window.acquire()
                try ctx.send(b, to: batches)
            }
            while let strip = try ctx.receive(tiled) {
                if batcher == nil {
                    let per = strip.mappedCount > 0 ? strip.pixels.count / strip.mappedCount : 0
                    batcher = TileBatcher(batchSize: options.batchSize, valuesPerTile: per)
                }
                if batcher!.valuesPerTile == 0 && strip.mappedCount > 0 {
                    // The first strips had no mapped tile: learn the tile size now (no tile was batched with pixels yet).
                    batcher!.setValuesPerTile(strip.pixels.count / strip.mappedCount)
                }
                try batcher!.add(strip, emit: emit)
            }
            try batcher?.finish(emit: emit)
        }
        pipeline.addStage("encoder", workers: workers, finishing: [results]) { ctx in
            let encoder = try makeEncoder(ctx.worker)
            while let batch = try ctx.receive(batches) {
                if batch.mappedCount == 0 {
                    try ctx.send(BatchResult(sequence: batch.sequence, tiles: batch.tiles, labels: [], routing: [],
                                             scores: nil, embeddings: nil), to: results)
                } else {
                    try ctx.send(try encoder.encode(batch), to: results)
                }
            }
        }
        pipeline.addStage("writer") { ctx in
            var reorder = ReorderBuffer<BatchResult>()
            var assembler = RowAssembler(layout: layout, startRow: startRow, committed: committed)
            // Checkpoint (fsync + progress.json) at most every `options.checkpointInterval` seconds and at the last row.
            var lastCheckpoint = DispatchTime.now().uptimeNanoseconds
            // The last row appended completely, so that a failed append (disk full, file-size limit) can
            // still checkpoint every finished row before the error stops the run, whatever the interval.
            var lastAppended: (row: Int, statistics: SceneStatistics)?
            var checkpointedRows = startRow
            while let result = try ctx.receive(results) {
                for ready in reorder.insert(result, at: result.sequence) {
                    try assembler.add(ready) { row, record, stats in
                        do {
                            try store.append(record)
                        } catch {
                            if let last = lastAppended, last.row + 1 > checkpointedRows {
                                try? store.sync()
                                if (try? ResumeState(fingerprint: fingerprint, gridRows: layout.gridRows, gridCols: layout.gridCols,
                                                     finishedRows: last.row + 1, statistics: last.statistics).save(to: progressPath)) != nil {
                                    outcome.checkpointed = true
                                }
                            }
                            throw error
                        }
                        lastAppended = (row, stats)
                        ctx.count()
                        let now = DispatchTime.now().uptimeNanoseconds
                        guard row + 1 == layout.gridRows || Double(now - lastCheckpoint) / 1e9 >= options.checkpointInterval else { return }
                        try store.sync()
                        try ResumeState(fingerprint: fingerprint, gridRows: layout.gridRows, gridCols: layout.gridCols,
                                        finishedRows: row + 1, statistics: stats).save(to: progressPath)
                        outcome.checkpointed = true
                        checkpointedRows = row + 1
                        lastCheckpoint = now
                    }
                    progress.advance(by: ready.tiles.count)
                    window.release()
                }
            }
            try ctx.checkCancelled()
            guard assembler.isComplete else {
                throw OutputError(path: store.path, "the pipeline ended at tile row \(assembler.row) of \(layout.gridRows) (internal error)")
            }
            outcome.statistics = assembler.committed
        }
        progress.start()
        defer { progress.finish() }
        let timings = try pipeline.run()
        return (timings, outcome.statistics, outcome.checkpointed)
    }

    /// The STAC Item of a scene's outputs.
    static func stacItem(scene: MapScene, layout: MapOutputLayout, rasters: MapRasters, previews: MapPreviews? = nil, summaryName: String,
                         runFacts: [String: String]) throws -> STACItem {
        let sceneGrid = STACItem.ProjectionGrid(epsg: scene.crs.epsg, wkt2: scene.crs.wkt2, geotransform: scene.geoTransform.gdal,
                                                width: scene.width, height: scene.height)
        func grid(_ t: GeoTransform, _ w: Int, _ h: Int) -> STACItem.ProjectionGrid {
            .init(epsg: scene.crs.epsg, wkt2: scene.crs.wkt2, geotransform: t.gdal, width: w, height: h)
        }
        let classes = layout.classNames.enumerated().map {
            STACItem.ClassificationClass(value: $0, name: $1, rgb: layout.classColors[$0].map(Int.init))
        }
        var assets: [String: STACItem.Asset] = [
            "summary": .init(href: "./" + summaryName, type: STACItem.Asset.jsonType, title: "Scene run summary", roles: ["metadata"]),
        ]
        for part in layout.parts {
            let product = part.product
            let s = product.grid.pixelsPerTileSide
            assets[product.name] = .init(href: "./" + product.fileName(product: scene.product), type: STACItem.Asset.cogType,
                                         title: product.title, description: product.assetDescription(layout), roles: product.roles,
                                         grid: grid(rasters.geoTransform(product.grid), layout.gridCols * s, layout.gridRows * s),
                                         classes: product.legend == .classes ? classes : nil)
        }
        if let previews { assets.merge(previews.stacAssets) { a, _ in a } }
        let ring = try SceneFootprint.lonLatRing(crs: scene.crs, geoTransform: scene.geoTransform, width: scene.width, height: scene.height)
        var item = STACItem(id: scene.product, acquired: scene.acquired, footprint: ring, grid: sceneGrid, assets: assets)
        item.properties.platform = scene.platform
        item.properties.instruments = scene.instruments
        item.properties.created = STACItem.rfc3339(Date())
        item.properties.moemae = runFacts.isEmpty ? nil : runFacts
        if let p = scene.provenance {
            item.links.append(STACItem.Link(rel: "derived_from", href: p.itemHref, type: "application/geo+json", title: "Source scene (STAC Item)"))
            item.keepSourceProperties(p.properties, sourceExtensions: p.extensions)
        }
        return item
    }
}

/// What the writer stage hands back to the caller (written by the writer thread, read after the run).
final class WriterOutcome: @unchecked Sendable {
    var statistics: SceneStatistics
    var checkpointed = false
    init(statistics: SceneStatistics) { self.statistics = statistics }
}
