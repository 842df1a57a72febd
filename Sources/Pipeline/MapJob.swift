import Diagnostics
import Foundation
import GeoRaster
import MoEMAE
import Probe
import Tiling

/// A refusal before or during a map run: the file concerned and what to do.
public struct MapError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}

extension MapError: DiagnosedError {
    public var kind: FailureKind { .incompatible }
    public var file: String? { path }
}

/// `moemae map` as a library call: checks the inputs, then maps every scene one after another
/// (``SceneMapper``) and writes `run-summary.json`. The command line only parses and prints.
public enum MapJob {
    public struct Outcome {
        public var summary: RunSummary
        public var scenes: [SceneMapResult]
    }

    /// Runs the job. Every check that can fail without reading pixels runs before any output is
    /// written: weights and probe readable, probe fitted on these weights (SHA-256) and of their
    /// dimension, weights made for the scenes' band count, scenes readable with the required bands and
    /// model-ready (unless `--allow-non-sr`), output folder writable.
    /// - Parameter runSummaryName: the run summary's file name in the output folder; nil writes none
    ///   (``ClusterMapJob`` maps one scene per call and writes one summary per task).
    public static func run(options: MapOptions, moemaeVersion: String, cancellation: CancellationToken,
                           runSummaryName: String? = "run-summary.json", note: @escaping (String) -> Void) throws -> Outcome {
        let started = Date()
        let t0 = DispatchTime.now().uptimeNanoseconds
        try options.validate()
        for (flag, path) in [("--weights", options.weights), ("--probe", options.probe)] where !FileManager.default.isReadableFile(atPath: path) {
            throw MapError(path: path, "cannot read the \(flag) file (does it exist?)")
        }
        let probe = try LinearProbe(contentsOf: options.probe)
        // Load the weights before comparing fingerprints: a truncated or foreign --weights file is
        // reported as such, not as a probe mismatch (its hash differs from everything).
        // bf16 on a CPU without AVX512_BF16 is refused here, before any output exists.
        let model = try MoEMAEModel.load(path: options.weights).converted(to: options.precision)
        let config = model.config
        let weightsSHA = try FileDigest.sha256(ofFile: options.weights)
        let probeSHA = try FileDigest.sha256(ofFile: options.probe)
        if probe.weightsSHA256.isEmpty {
            note("warning: \(options.probe) does not record which encoder weights it was fitted on; cannot check that it matches \(options.weights)")
        } else if probe.weightsSHA256.lowercased() != weightsSHA {
            throw MapError(path: options.probe, "was fitted on embeddings of encoder weights with SHA-256 \(probe.weightsSHA256.prefix(12))…, but --weights \(options.weights) has SHA-256 \(weightsSHA.prefix(12))…; pass the weights the probe was fitted on, or fit a probe on these weights (moemae embed, then moemae probe fit)")
        }
        guard probe.classCount >= 1, probe.classCount <= 255 else {
            throw MapError(path: options.probe, "has \(probe.classCount) classes; label maps are UInt8 with 255 as nodata, so at most 255 classes")
        }
        guard probe.dimension == config.embedDim else {
            throw MapError(path: options.probe, "expects \(probe.dimension)-dimensional embeddings but --weights \(options.weights) is a \(config.preset) encoder of dimension \(config.embedDim); fit the probe on embeddings of these weights")
        }

        // Outputs to object storage: mapped into a local folder first, then uploaded (RemoteOutput).
        let remote = RemoteOutput.isRemote(options.out) ? try RemoteOutput(url: options.out) : nil
        var options = options
        if let remote { options.out = remote.localDirectory }

        // Scenes: open and check them all before mapping the first. A STAC ItemCollection's broken items
        // are reported (run-summary.json `failed`, exit status 1) while its good items are mapped.
        var sources: [(input: String, source: SceneSource)] = []
        var failed: [RunSummary.Failure] = []
        for path in options.scenes {
            let entries = try RemoteScenes.open(path, warn: note)
            for entry in entries {
                do {
                    let s = try entry.result.get()
                    try check(s, input: entry.label, options: options, inChannels: config.inChannels, weights: options.weights, note: note)
                    sources.append((entry.label, s))
                } catch {
                    guard entries.count > 1 else { throw error }
                    note("error: \(error)")
                    failed.append(RunSummary.Failure(input: entry.label, error: "\(error)"))
                }
            }
        }

        // Refusals that concern the outputs of every scene come before the first scene is mapped, not
        // after the scenes before it (docs/pipeline.md): the same product twice (its outputs would
        // collide), and outputs already under their final names (unless --overwrite; with --resume the
        // scene mapper keeps complete scenes of the same run and refuses others).
        var seen: [String: String] = [:]
        for (path, s) in sources {
            if let first = seen[s.id] {
                throw MapError(path: path, "is product \(s.id), already given as \(first); give each scene once (its outputs are named after the product)")
            }
            seen[s.id] = path
            if !options.overwrite && !options.resume {
                let finalNames = MapProduct.alwaysWritten.map { $0.fileName(product: s.id) } + ["\(s.id).stac.json", "\(s.id)_summary.json"]
                if let remote, let hit = try remote.existing(finalNames).first {
                    throw OutputExists(path: remote.location(hit), detail: "scene \(s.id) was mapped into \(remote.url) before")
                }
                if let hit = finalNames.map({ (options.out as NSString).appendingPathComponent($0) })
                    .first(where: { FileManager.default.fileExists(atPath: $0) }) {
                    throw OutputExists(path: hit, detail: "scene \(s.id) was mapped into \(options.out) before")
                }
            }
        }

        // Weights written by `moemae pretrain` record their normalisation and hour policy; they are
        // the defaults (an explicit --hour wins). Imported published weights record none: BigEarthNet
        // statistics and the utc policy.
        let trained = try WeightsMetadata.read(path: options.weights)
        // Hour policy: --hour; else the one the probe's training embeddings used (recorded by `probe fit`),
        // so scenes are encoded as the probe's training tiles were; else the weights'; else utc.
        let probeHour = probe.inputHourPolicy.flatMap(HourPolicy.init(rawValue:))
        let hour: HourPolicy = options.hour ?? probeHour ?? (trained?.hour == .published ? .published : .utc)
        if let probeHour, hour != probeHour {
            note("warning: \(options.probe) was fitted on embeddings made with hour policy \(probeHour.rawValue), but --hour \(hour.rawValue) is used: the probe sees other inputs than it was fitted on")
        }
        if let m = probe.inputMetadata, m == options.noMetadata {
            note("warning: \(options.probe) was fitted on embeddings made \(m ? "with" : "without") metadata (week, hour, lat, lon), but this run \(options.noMetadata ? "zeroes it (--no-metadata)" : "uses it"); \(m ? "leave out --no-metadata" : "pass --no-metadata") to map as the probe was fitted")
        }
        var encoding = trained?.inputEncoding ?? InputEncoding()
        encoding.hour = hour == .published ? .published : .utc
        encoding.metadata = !options.noMetadata
        let tokenLayers = try options.tokenExperts.resolve(layerCount: config.depth)
        let expertsPerLayer = (0..<config.depth).map { config.expertCount(layer: $0) }
        let progressMode = ProgressReporter.mode(quiet: options.quiet)
        // OpenBLAS's thread count is process-wide: set once for the whole job (every worker uses it).
        BLAS.setThreads(options.blasThreads)
        var fingerprintOptions = options.outputAffecting
        fingerprintOptions["hour"] = hour.rawValue
        let runFacts = ["weights": absolutePath(options.weights), "probe": absolutePath(options.probe), "weights_sha256": weightsSHA, "probe_sha256": probeSHA, "preset": config.preset,
                        "hour_policy": hour.rawValue, "metadata": String(!options.noMetadata), "moemae_version": moemaeVersion,
                        "precision": options.precision.rawValue]

        // The options as run: the hour policy actually used, not the "default (…)" placeholder.
        var summaryOptions = options.summaryFields
        summaryOptions["hour"] = hour.rawValue
        var results: [SceneMapResult] = []
        // A run that fails before publishing anything leaves no empty output folder it created itself
        // (rmdir only removes an empty folder: published scenes and resumable staging folders stay).
        let outExisted = FileManager.default.fileExists(atPath: options.out)
        defer { if !outExisted && results.isEmpty { rmdir(options.out) } }
        for (_, s) in sources {
            do {
                try cancellation.check()
                let source = try StripReaderSource(scene: s, tileSize: config.imageSize, metadata: !options.noMetadata)
                let scene = try source.mapScene()
                let layout = MapOutputLayout(gridRows: source.gridRows, gridCols: source.gridCols, expertsPerLayer: expertsPerLayer,
                                             tokens: config.tokenCount, slots: 2, classNames: probe.classes.map(\.name),
                                             classColors: probe.classes.map(\.color.components), tokenLayers: tokenLayers,
                                             writeScores: options.scores, embeddingDimension: options.embeddings ? config.embedDim : nil)
                let fingerprint = RunFingerprint.compute(inputs: s.files, weightsSHA256: weightsSHA, probeSHA256: probeSHA,
                                                         options: fingerprintOptions)
                if let remote, options.resume && !options.overwrite, let done = remote.completedEarlier(product: s.id, fingerprint: fingerprint) {
                    note("\(s.id): already complete in \(remote.url) (same inputs and options); kept its outputs")
                    results.append(done)
                    continue
                }
                let result = try SceneMapper.run(scene: scene, source: source, layout: layout, options: options, fingerprint: fingerprint,
                                                 cancellation: cancellation, progressMode: progressMode, runFacts: runFacts, note: note) { _ in
                    MoEMAEBatchEncoder(model: model, probe: probe, encoding: encoding, keepScores: options.scores, keepEmbeddings: options.embeddings)
                }
                results.append(try remote.map { try $0.publish(result) } ?? result)
            } catch let e as PipelineInterrupted where !results.isEmpty {
                throw PipelineInterrupted(reason: e.reason, completedScenes: results.map(\.summary.id))
            } catch is PipelineCancelled where !results.isEmpty {
                throw PipelineInterrupted(reason: cancellation.reason ?? .requested, completedScenes: results.map(\.summary.id))
            }
        }

        var summary = RunSummary(moemaeVersion: moemaeVersion, started: STACItem.rfc3339(started),
                                 wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9,
                                 weightsSHA256: weightsSHA, probeSHA256: probeSHA, options: summaryOptions,
                                 scenes: results.map(\.summary), timings: mergeTimings(results.map(\.timings)))
        summary.weights = absolutePath(options.weights)
        summary.probe = absolutePath(options.probe)
        var runSummary = summary
        if !failed.isEmpty { runSummary.failed = failed }
        if let remote { runSummary.options["out"] = remote.url }
        let summaryPath = (options.out as NSString).appendingPathComponent(runSummaryName ?? "run-summary.json")
        if let runSummaryName {
            if !FileManager.default.fileExists(atPath: options.out) { try OutputTransaction.makeDirectories(options.out) }
            try writeAtomically(try runSummary.jsonData(), to: summaryPath)
            if let remote {
                try remote.upload(summaryPath)
                try? FileManager.default.removeItem(atPath: (options.out as NSString).appendingPathComponent(runSummaryName))
            }
        }
        if !failed.isEmpty {
            throw MapError(path: failed.map(\.input).joined(separator: ", "),
                           "\(failed.count) of \(failed.count + results.count) scenes could not be mapped (listed under \"failed\" in \(remote.map { $0.location("run-summary.json") } ?? summaryPath)); the other \(results.count) were mapped")
        }
        return Outcome(summary: runSummary, scenes: results)
    }

    /// The per-scene refusals: not model-ready without `--allow-non-sr` (with it: a warning), or a band
    /// count the encoder does not take.
    static func check(_ s: SceneSource, input path: String, options: MapOptions, inChannels: Int, weights: String,
                      note: (String) -> Void) throws {
        if !s.modelReady && !options.allowNonSR {
            throw MapError(path: path, "\(s.id) is not Collection 2 Level-2 surface reflectance (\(s.level), bands \(s.bands.map(\.name).joined(separator: ","))): the model was trained on SR_B1…SR_B7 only. Use a C2 L2 scene, or pass --allow-non-sr to map it anyway (the maps are then not meaningful; see docs/bands.md)")
        }
        if !s.modelReady {
            // docs/bands.md: with --allow-non-sr the outputs are less reliable, and the command says so.
            note("warning: \(path): \(s.id) is not Collection 2 Level-2 surface reflectance (\(s.level), bands \(s.bands.map(\.name).joined(separator: ","))); mapped anyway because of --allow-non-sr: its values get the surface-reflectance normalisation, so its maps are not meaningful")
        }
        guard s.bands.count == inChannels else {
            throw MapError(path: weights, "the encoder takes \(inChannels) input bands, but scene \(s.id) provides \(s.bands.count) (\(s.bands.map(\.name).joined(separator: ","))); use weights of a model trained on these \(s.bands.count) bands")
        }
    }

    /// `path` made absolute against the working folder (recorded in the run summary and STAC Item).
    static func absolutePath(_ path: String) -> String {
        let p = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (p as NSString).standardizingPath
    }

    /// Sums the timings of the same stage over scenes (wall: sum too — scenes run one after another).
    static func mergeTimings(_ all: [[StageTiming]]) -> [StageTiming] {
        var order: [String] = []
        var merged: [String: StageTiming] = [:]
        for list in all {
            for t in list {
                if var m = merged[t.stage] {
                    m.items += t.items; m.wallSeconds += t.wallSeconds; m.busySeconds += t.busySeconds
                    m.waitInputSeconds += t.waitInputSeconds; m.waitOutputSeconds += t.waitOutputSeconds
                    merged[t.stage] = m
                } else {
                    merged[t.stage] = t; order.append(t.stage)
                }
            }
        }
        return order.map { merged[$0]! }
    }
}
