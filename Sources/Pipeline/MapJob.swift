import Diagnostics
import Foundation
import GeoRaster
import Landsat
import MoEMAE
import Probe
import Tiling

/// A refusal before or during a map run: the file concerned and what to do.
public struct MapError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    /// The settings that fix it (``DiagnosedError/settings``).
    public let settings: [Setting]
    public init(path: String, _ message: String, settings: [Setting] = []) { self.path = path; self.message = message; self.settings = settings }
    /// `<path>: <message> (settings: …)`.
    public var description: String { "\(path): \(message)" + Setting.mention(settings) }
}

extension MapError: DiagnosedError {
    public var kind: FailureKind { .incompatible }
    public var file: String? { path }
}

/// `moemae map` as a library call: checks the inputs, then maps every scene one after another
/// (``SceneMapper``) with one ``MapSession`` (weights and probe loaded once) and writes
/// `run-summary.json`. The command line only parses and prints.
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
                           runSummaryName: String? = "run-summary.json", note: @escaping (Notice) -> Void) throws -> Outcome {
        let started = Date()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let session = try MapSession(options: options, moemaeVersion: moemaeVersion, note: note)

        // Outputs to object storage: mapped into a local folder first, then uploaded (RemoteOutput).
        let remote = RemoteOutput.isRemote(options.out) ? try RemoteOutput(url: options.out) : nil
        var options = options
        if let remote { options.out = remote.localDirectory }

        // Scenes: open and check them all before mapping the first; what each input is, is decided by
        // Tiling.SceneInput. A STAC ItemCollection's broken items are reported (run-summary.json
        // `failed`, exit status 1) while its good items are mapped.
        var sources: [(input: String, source: SceneSource)] = []
        var failed: [RunSummary.Failure] = []
        for path in options.scenes {
            let input = SceneInput(path: path)
            guard input.isWholeScene else {
                throw MapError(path: path, "is a BigEarthNet-style patch folder (images/ and labels/), not a Landsat scene; map takes Landsat scenes (tile patches with `moemae tile`)")
            }
            let opened = try input.open(tileSize: session.model.config.imageSize)
            for w in opened.warnings { note(.warning(w)) }
            for entry in opened.entries {
                do {
                    let s = try entry.result.get()
                    try session.check(s, input: entry.label, note: note)
                    sources.append((entry.label, s))
                } catch {
                    guard entry.isCollectionMember else { throw error }
                    let d = error as? DiagnosedError
                    note(Notice("error: \(d?.diagnosis ?? "\(error)")", settings: d?.settings ?? []))
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

        var results: [SceneMapResult] = []
        // A run that fails before publishing anything leaves no empty output folder it created itself
        // (rmdir only removes an empty folder: published scenes and resumable staging folders stay).
        let outExisted = FileManager.default.fileExists(atPath: options.out)
        defer { if !outExisted && results.isEmpty { rmdir(options.out) } }
        for (_, s) in sources {
            do {
                try cancellation.check()
                let fingerprint = try session.fingerprint(of: s)
                if let remote, options.resume && !options.overwrite, let done = remote.completedEarlier(product: s.id, fingerprint: fingerprint) {
                    note("\(s.id): already complete in \(remote.url) (same inputs and options); kept its outputs")
                    results.append(done)
                    continue
                }
                let result = try session.map(s, options: options, fingerprint: fingerprint, cancellation: cancellation, note: note)
                results.append(try remote.map { try $0.publish(result) } ?? result)
            } catch let e as PipelineInterrupted where !results.isEmpty {
                throw PipelineInterrupted(reason: e.reason, completedScenes: results.map(\.summary.id))
            } catch is PipelineCancelled where !results.isEmpty {
                throw PipelineInterrupted(reason: cancellation.reason ?? .requested, completedScenes: results.map(\.summary.id))
            }
        }

        var summary = RunSummary(moemaeVersion: moemaeVersion, started: STACItem.rfc3339(started),
                                 wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9,
                                 weightsSHA256: session.weightsSHA256, probeSHA256: session.probeSHA256, options: session.summaryOptions,
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

    /// The per-scene refusals: not model-ready unless `allowNonSR` (``ModelInputResolver/checkScene(_:path:allowNonSR:warn:)``:
    /// ``NotModelReady``; with it, a warning), or a band count the encoder does not take.
    static func check(_ s: SceneSource, input path: String, options: MapOptions, inChannels: Int, weights: String,
                      note: (Notice) -> Void) throws {
        try ModelInputResolver.checkScene(s, path: path, allowNonSR: options.allowNonSR, warn: note)
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
