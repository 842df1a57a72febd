import Diagnostics
import Foundation
import Tiling

/// `run-summary-<I>-of-<N>.json` (or `run-summary-line-<K>.json`): what one array task did with each
/// manifest line it was given (`schemas/shard-summary.schema.json`). Each task writes its own file,
/// so concurrent tasks never overwrite each other's summary.
public struct ShardRunSummary: Codable, Equatable, Sendable {
    public var format = "moemae-shard-summary"
    public var formatVersion = 1
    public var moemaeVersion: String
    /// The manifest path as given and the SHA-256 of its bytes.
    public var manifest: String
    public var manifestSHA256: String
    public var shard: Shard
    public var host: String
    public var pid: Int32
    public var started: String
    public var wallSeconds: Double
    public var scenes: [Line]
    /// Lines whose status is `failed`; non-zero makes the task's exit status non-zero.
    public var failed: Int
    /// Set when the task was stopped by a signal before all its lines were done.
    public var interrupted: String?

    public struct Shard: Codable, Equatable, Sendable {
        public var index: Int
        public var count: Int
        public var line: Int?
        /// Where the shard came from (`--shard 1/3`, `SLURM_ARRAY_TASK_ID=…`, …).
        public var origin: String
        /// Manifest lines this task was given.
        public var lines: [Int]
        public var estimatedTiles: Int
        enum CodingKeys: String, CodingKey { case index, count, line, origin, lines, estimatedTiles = "estimated_tiles" }
    }

    /// What happened to one manifest line.
    public struct Line: Codable, Equatable, Sendable {
        /// `mapped` (published by this task), `complete` (already complete with the same inputs and options:
        /// kept), `busy` (another live task holds its claim), `failed` (see `error`).
        public var status: String
        public var index: Int
        public var id: String
        public var error: String?
        /// The other task's claim (host, pid, task) when `busy`.
        public var claimedBy: String?
        public var tilesMapped: Int?
        public var resumedRows: Int?
        public var wallSeconds: Double
        enum CodingKeys: String, CodingKey {
            case status, index, id, error, claimedBy = "claimed_by", tilesMapped = "tiles_mapped", resumedRows = "resumed_rows"
            case wallSeconds = "wall_s"
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", moemaeVersion = "moemae_version", manifest
        case manifestSHA256 = "manifest_sha256", shard, host, pid, started, wallSeconds = "wall_s", scenes, failed, interrupted
    }
}

/// `moemae map --manifest M --out DIR [--shard I/N | --index K]`: maps this task's manifest lines one
/// after another with one loaded model (``MapSession``), each under a per-scene claim (``SceneClaim`` in
/// a folder, ``ObjectStoreClaim`` under an `s3://` prefix), skipping scenes already complete for the same
/// inputs and options and resuming half-done ones (the map's `--resume` machinery), and writes the task's
/// ``ShardRunSummary``. With an `s3://` output each scene is completed in a local folder, validated and
/// uploaded with its STAC Item last (``RemoteOutput``). A failing scene does not stop the others; the
/// caller exits non-zero when ``ShardRunSummary/failed`` > 0.
public enum ClusterMapJob {
    public struct Outcome {
        public var summary: ShardRunSummary
        /// The summary's path, or its URL for `s3://` outputs.
        public var summaryPath: String
    }

    /// - Parameters:
    ///   - base: the map options (weights, probe, output folder or `s3://` prefix, output-affecting flags);
    ///     `scenes` is ignored.
    ///   - lines: restrict the manifest to these lines before sharding (`--lines`, a resubmission).
    ///   - heartbeat: claim heartbeat interval in seconds (``SceneClaim``, ``ObjectStoreClaim``).
    ///   - claimSettle: seconds between writing an object-storage claim and reading it back.
    public static func run(manifestPath: String, selection: ShardSelection, lines: [Int]?, base: MapOptions, moemaeVersion: String,
                           cancellation: CancellationToken, heartbeat: Double = 30, claimSettle: Double = 2,
                           note: @escaping (Notice) -> Void) throws -> Outcome {
        let started = Date()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let manifest = try SceneManifest(contentsOf: manifestPath)
        let manifestSHA = try RunFingerprint.sha256(ofFile: manifestPath)
        let mine = try ShardPlan.lines(of: manifest, selection: selection, restrictedTo: lines)
        var check = base
        check.scenes = ["(manifest)"]
        // The weights and probe are loaded once for all the task's scenes (they are read-only).
        let session = try MapSession(options: check, moemaeVersion: moemaeVersion, note: note)
        let remote = RemoteOutput.isRemote(base.out) ? try RemoteOutput(url: base.out) : nil
        let out = remote?.localDirectory ?? base.out
        let taskName = selection.line.map { "line \($0)" } ?? "shard \(selection.index)/\(selection.count)"
        note("\(taskName) from \(selection.origin): \(mine.count) of \(manifest.entries.count) manifest lines (\(mine.map(\.estimatedTiles).reduce(0, +)) estimated tiles): \(ShardPlan.compactList(mine.map(\.index)))")

        var results: [ShardRunSummary.Line] = []
        var interrupted: String?
        manifestLines: for entry in mine {
            if cancellation.isCancelled { interrupted = cancellation.reason?.description; break }
            let lineStart = DispatchTime.now().uptimeNanoseconds
            func finish(_ status: String, error: String? = nil, claimedBy: String? = nil, scene: RunSummary.Scene? = nil) {
                results.append(.init(status: status, index: entry.index, id: entry.id, error: error, claimedBy: claimedBy,
                                     tilesMapped: scene?.tilesMapped, resumedRows: scene?.resumedRows,
                                     wallSeconds: SceneMapper.seconds(since: lineStart)))
                note("line \(entry.index) \(entry.id): \(status)\(error.map { ": " + $0 } ?? "")\(claimedBy.map { " (claimed by \($0))" } ?? "")")
            }
            do {
                let opened = try ManifestSource.open(entry.source, warn: { note(Notice($0)) })
                let source = opened.scene
                guard source.id == entry.id else {
                    finish("failed", error: "\(entry.source) is now product \(source.id), but the manifest says \(entry.id); plan the manifest again"); continue manifestLines
                }
                let hash = try SceneManifest.contentHash(of: opened)
                guard hash == entry.contentSHA256 else {
                    finish("failed", error: "\(entry.source): the scene's files changed since the manifest was planned (content hash \(hash.prefix(12))… ≠ \(entry.contentSHA256.prefix(12))…); plan the manifest again"); continue manifestLines
                }
                try session.check(source, input: entry.source, note: note)
                var held: (any HeldSceneClaim)?
                var owner: SceneClaim.Owner?
                let task = "\(taskName) pid \(getpid())"
                if let remote {
                    switch try ObjectStoreClaim.acquire(url: remote.url, product: entry.id, task: task, heartbeatInterval: heartbeat, settle: claimSettle) {
                    case .busy(let o): owner = o
                    case .acquired(let c): held = c
                    }
                } else {
                    switch try SceneClaim.acquire(directory: out, product: entry.id, task: task, heartbeatInterval: heartbeat) {
                    case .busy(let o): owner = o
                    case .acquired(let c): held = c
                    }
                }
                guard let claim = held else {
                    finish("busy", claimedBy: owner.map { "\($0.host) pid \($0.pid), \($0.task)" } ?? "unknown owner"); continue manifestLines
                }
                defer { claim.release() }
                // One token per scene: cancelled by the task's token (signals) or when the claim is lost.
                let sceneToken = CancellationToken()
                let forward = cancellation.onCancel { sceneToken.cancel(cancellation.reason ?? .requested) }
                defer { cancellation.removeHandler(forward) }
                claim.onLost {
                    note("line \(entry.index) \(entry.id): the claim \(claim.path) was taken over by another task; stopping this scene")
                    sceneToken.cancel(.requested)
                }
                let fingerprint = try session.fingerprint(of: source)
                var options = base
                options.out = out
                options.scenes = [entry.source]
                options.resume = true
                let itemName = "\(entry.id).stac.json"
                if let remote {
                    // Complete in the bucket with the same fingerprint: kept. Complete with another one:
                    // refused unless --overwrite (as for folders). Else map locally and upload, Item last.
                    if !base.overwrite, let done = remote.completedEarlier(product: entry.id, fingerprint: fingerprint) {
                        finish("complete", scene: done.summary); continue manifestLines
                    }
                    if !base.overwrite, try !remote.existing([itemName]).isEmpty {
                        finish("failed", error: "\(OutputExists(path: remote.location(itemName), detail: "made from other inputs, weights, probe or options"))" + Setting.mention([.overwrite]))
                        continue manifestLines
                    }
                }
                // Final-named outputs without the Item (published last) are what a task killed while
                // publishing leaves: we hold the claim, so replace them. A complete scene (Item present)
                // is kept when its fingerprint matches, else refused unless --overwrite.
                if !FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent(itemName)) { options.overwrite = true }
                do {
                    var result = try session.map(source, options: options, fingerprint: fingerprint, cancellation: sceneToken, note: note)
                    guard claim.isHeld else {
                        finish("failed", error: "the claim was taken over while mapping; the other task's outputs stand"); continue manifestLines
                    }
                    if let remote { result = try remote.publish(result) }
                    finish(result.summary.alreadyComplete == true && remote == nil ? "complete" : "mapped", scene: result.summary)
                } catch let e as PipelineInterrupted where cancellation.isCancelled {
                    finish("failed", error: e.description); interrupted = cancellation.reason?.description; break manifestLines
                } catch is PipelineCancelled where cancellation.isCancelled {
                    finish("failed", error: "interrupted"); interrupted = cancellation.reason?.description; break manifestLines
                }
            } catch {
                finish("failed", error: String(describing: error))
            }
        }

        let summary = ShardRunSummary(
            moemaeVersion: moemaeVersion, manifest: manifestPath, manifestSHA256: manifestSHA,
            shard: .init(index: selection.index, count: selection.count, line: selection.line, origin: selection.origin,
                         lines: mine.map(\.index), estimatedTiles: mine.map(\.estimatedTiles).reduce(0, +)),
            host: ProcessInfo.processInfo.hostName, pid: getpid(), started: STACItem.rfc3339(started),
            wallSeconds: SceneMapper.seconds(since: t0), scenes: results,
            failed: results.filter { $0.status == "failed" }.count, interrupted: interrupted)
        if !FileManager.default.fileExists(atPath: out) { try OutputTransaction.makeDirectories(out) }
        let path = (out as NSString).appendingPathComponent(selection.summaryFileName)
        let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeAtomically(try e.encode(summary), to: path)
        if let remote {
            try remote.upload(path)
            try? FileManager.default.removeItem(atPath: path)
            return Outcome(summary: summary, summaryPath: remote.location(selection.summaryFileName))
        }
        return Outcome(summary: summary, summaryPath: path)
    }
}
