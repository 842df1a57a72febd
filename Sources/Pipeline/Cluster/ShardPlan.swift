import Diagnostics
import Foundation

/// Which part of a manifest one task maps, and where that came from.
public struct ShardSelection: Equatable, Sendable, CustomStringConvertible {
    /// 0-based shard index, `0 ..< count`.
    public var index: Int
    public var count: Int
    /// Exactly one manifest line (`--index K`, or by-line array tasks) instead of a shard.
    public var line: Int?
    /// How it was chosen, e.g. `shard 1/3 given` or `SLURM_ARRAY_TASK_ID=5 - SLURM_ARRAY_TASK_MIN=4 of SLURM_ARRAY_TASK_COUNT=3`.
    public var origin: String

    public init(index: Int, count: Int, line: Int? = nil, origin: String) {
        self.index = index; self.count = count; self.line = line; self.origin = origin
    }

    /// `shard 1/3` (0-based index, as `--shard` takes it) or `line 17`.
    public var description: String { line.map { "line \($0)" } ?? "shard \(index)/\(count)" }

    /// `run-summary-<I>-of-<N>.json` (0-based I), or `run-summary-line-<K>.json`.
    public var summaryFileName: String { line.map { "run-summary-line-\($0).json" } ?? "run-summary-\(index)-of-\(count).json" }

    /// Parses `I/N` (0-based I, `0 ≤ I < N`).
    public static func parse(_ text: String) throws -> (index: Int, count: Int) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else {
            throw MapOptionsError("shard '\(text)' is not I/N with 0 ≤ I < N (0-based shard index I of N shards, e.g. 0/3)", settings: [.shard])
        }
        return (i, n)
    }

    /// The selection of this task. Explicit options win: `--index K`, then `--shard I/N`. Otherwise the
    /// engine's environment, in this order:
    /// - Slurm job arrays: `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`
    ///   (so `--array=1-3` and `--array=0-2` both give shards 0, 1, 2). With `--shard-count N` the raw
    ///   task id is the shard index of N (resubmitting `--array=1` of an N-shard run).
    /// - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` with `--shard-count N` (Kubernetes does not
    ///   expose the completion count to the pod).
    /// - AWS Batch array jobs: `AWS_BATCH_JOB_ARRAY_INDEX` with `AWS_BATCH_JOB_ARRAY_SIZE` (set it in the
    ///   job definition; Batch itself only sets the index) or `--shard-count N`.
    /// Without any of these the whole manifest is one shard (`0/1`).
    public static func resolve(shard: String?, shardCount: Int?, index: Int?, environment: [String: String]) throws -> ShardSelection {
        if let index {
            guard index >= 0 else { throw MapOptionsError("index must be a manifest line number ≥ 0 (got \(index))", settings: [.index]) }
            return ShardSelection(index: 0, count: 1, line: index, origin: "index \(index) given")
        }
        if let shard {
            let (i, n) = try parse(shard)
            if let c = shardCount, c != n { throw MapOptionsError("shard \(shard) contradicts shard count \(c)", settings: [.shard, .shardCount]) }
            return ShardSelection(index: i, count: n, origin: "shard \(shard) given")
        }
        if let c = shardCount, c < 1 { throw MapOptionsError("shard-count must be ≥ 1 (got \(c))", settings: [.shardCount]) }
        func int(_ name: String) throws -> Int? {
            guard let v = environment[name], !v.isEmpty else { return nil }
            guard let i = Int(v.trimmingCharacters(in: .whitespaces)), i >= 0 else {
                throw MapOptionsError("environment variable \(name)='\(v)' is not an index ≥ 0")
            }
            return i
        }
        func checked(_ i: Int, _ n: Int, _ origin: String) throws -> ShardSelection {
            guard n >= 1, i < n else { throw MapOptionsError("\(origin): shard index \(i) is not below the shard count \(n)") }
            return ShardSelection(index: i, count: n, origin: origin)
        }
        if let id = try int("SLURM_ARRAY_TASK_ID") {
            if let n = shardCount { return try checked(id, n, "SLURM_ARRAY_TASK_ID=\(id) of shard count \(n)") }
            guard let n = try int("SLURM_ARRAY_TASK_COUNT") else {
                throw MapOptionsError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; give the shard count N, or the shard I/N", settings: [.shardCount, .shard])
            }
            let min = try int("SLURM_ARRAY_TASK_MIN") ?? 0
            guard id >= min else { throw MapOptionsError("SLURM_ARRAY_TASK_ID=\(id) is below SLURM_ARRAY_TASK_MIN=\(min)") }
            return try checked(id - min, n, "SLURM_ARRAY_TASK_ID=\(id) - SLURM_ARRAY_TASK_MIN=\(min) of SLURM_ARRAY_TASK_COUNT=\(n)")
        }
        if let k = try int("JOB_COMPLETION_INDEX") {
            guard let n = shardCount else {
                throw MapOptionsError("JOB_COMPLETION_INDEX=\(k) is set but Kubernetes does not expose the completion count: give the shard count N (the Job's completions)", settings: [.shardCount])
            }
            return try checked(k, n, "JOB_COMPLETION_INDEX=\(k) of shard count \(n)")
        }
        if let k = try int("AWS_BATCH_JOB_ARRAY_INDEX") {
            if let n = shardCount { return try checked(k, n, "AWS_BATCH_JOB_ARRAY_INDEX=\(k) of shard count \(n)") }
            guard let n = try int("AWS_BATCH_JOB_ARRAY_SIZE") else {
                throw MapOptionsError("AWS_BATCH_JOB_ARRAY_INDEX=\(k) is set but AWS_BATCH_JOB_ARRAY_SIZE is not: set it in the job definition or give the shard count N", settings: [.shardCount])
            }
            return try checked(k, n, "AWS_BATCH_JOB_ARRAY_INDEX=\(k) of AWS_BATCH_JOB_ARRAY_SIZE=\(n)")
        }
        if let n = shardCount, n != 1 {
            throw MapOptionsError("shard count \(n) needs a shard index: the shard I/\(n), or SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX / AWS_BATCH_JOB_ARRAY_INDEX in the environment", settings: [.shard])
        }
        return ShardSelection(index: 0, count: 1, origin: "no shard given (whole manifest)")
    }
}

/// The deterministic, tile-balanced split of a manifest into shards.
///
/// Rule (longest-processing-time first, Graham 1969): lines are taken in order of decreasing
/// `estimated_tiles` (ties: lower line number first) and each goes to the shard with the fewest
/// estimated tiles so far (ties: lower shard index). Every task computes the same split from the same
/// manifest, no coordination needed; the heaviest shard holds at most 4/3 of the optimum. Within a
/// shard, lines are mapped in line order.
public enum ShardPlan {
    /// Line numbers of every shard, `count` lists (some empty when there are fewer lines than shards).
    public static func assign(_ entries: [ManifestEntry], count: Int) -> [[Int]] {
        precondition(count >= 1)
        var shards = Array(repeating: [Int](), count: count)
        var load = Array(repeating: 0, count: count)
        let order = entries.sorted { ($0.estimatedTiles, -$0.index) > ($1.estimatedTiles, -$1.index) }
        for e in order {
            var best = 0
            for s in 1..<count where load[s] < load[best] { best = s }
            shards[best].append(e.index)
            load[best] += max(1, e.estimatedTiles)
        }
        return shards.map { $0.sorted() }
    }

    /// The manifest lines of `selection` (restricted to `lines` when given: the lines of a resubmission).
    /// Throws when `--index` is outside the manifest or `lines` names lines it does not have.
    public static func lines(of manifest: SceneManifest, selection: ShardSelection, restrictedTo lines: [Int]? = nil) throws -> [ManifestEntry] {
        if let k = selection.line {
            guard k < manifest.entries.count else {
                throw MapOptionsError("index \(k) is outside the manifest: it has lines 0…\(manifest.entries.count - 1)", settings: [.index])
            }
            return [manifest.entries[k]]
        }
        var pool = manifest.entries
        if let lines {
            if let bad = lines.first(where: { $0 < 0 || $0 >= manifest.entries.count }) {
                throw MapOptionsError("lines: line \(bad) is outside the manifest (lines 0…\(manifest.entries.count - 1))", settings: [.lines])
            }
            let wanted = Set(lines)
            pool = manifest.entries.filter { wanted.contains($0.index) }
        }
        let shards = assign(pool, count: selection.count)
        let mine = Set(shards[selection.index])
        return pool.filter { mine.contains($0.index) }
    }

    /// Parses `--lines 3,17,20-25`.
    public static func parseLines(_ text: String) throws -> [Int] {
        var out: [Int] = []
        for part in text.split(separator: ",") {
            let range = part.split(separator: "-", omittingEmptySubsequences: false)
            if range.count == 2, let a = Int(range[0]), let b = Int(range[1]), a >= 0, a <= b {
                out.append(contentsOf: a...b)
            } else if let v = Int(part), v >= 0 {
                out.append(v)
            } else {
                throw MapOptionsError("lines '\(text)' is not a list of manifest line numbers like 3,17,20-25", settings: [.lines])
            }
        }
        guard !out.isEmpty else { throw MapOptionsError("lines is empty: give manifest line numbers like 3,17,20-25", settings: [.lines]) }
        return Array(Set(out)).sorted()
    }

    /// `3,17,20-25`: the compact form Slurm's `--array` and ``parseLines(_:)`` take.
    public static func compactList(_ values: [Int]) -> String {
        let v = Array(Set(values)).sorted()
        var parts: [String] = []
        var i = 0
        while i < v.count {
            var j = i
            while j + 1 < v.count && v[j + 1] == v[j] + 1 { j += 1 }
            parts.append(j - i >= 2 ? "\(v[i])-\(v[j])" : (i...j).map { String(v[$0]) }.joined(separator: ","))
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
