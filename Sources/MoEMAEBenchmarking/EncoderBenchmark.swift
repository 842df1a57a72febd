import Foundation
import MoEMAE
import MoEMAETraining

/// The encoder benchmark behind `moemae bench encoder` and `MoEMAEBenchmarks encoder`
/// (figures in docs/performance.md).
///
/// For each thread count it measures the single-precision GEMM peak of this machine with the same
/// OpenBLAS (square `cblas_sgemm`, best of a few sizes, before and after the encoder runs), runs the
/// encoder on batches of tiles and reports tiles/s, achieved GFLOP/s (2 × ``ModelConfig/encoderMultiplyAddsPerTile`` per tile)
/// and the fraction of the measured peak.
public enum EncoderBenchmark {
    public struct Setting: Sendable, CustomStringConvertible {
        public var workers: Int
        public var blasThreads: Int
        public init(workers: Int, blasThreads: Int) { self.workers = workers; self.blasThreads = blasThreads }
        public var threads: Int { workers * blasThreads }
        public var description: String { "\(workers) worker(s) × \(blasThreads) BLAS thread(s)" }
    }

    public struct Row: Sendable {
        public var setting: Setting
        public var tilesPerSecond: Double
        public var gflops: Double
        public var peakGflops: Double
        public var fractionOfPeak: Double { gflops / peakGflops }
    }

    /// Best GFLOP/s of square sgemm (n = 512, 1024, 1536) with `threads` OpenBLAS threads, each run for
    /// about `seconds`.
    public static func gemmPeak(threads: Int, seconds: Double = 0.7) -> Double {
        BLAS.setThreads(threads)
        var best = 0.0
        for n in [512, 1024, 1536] {
            let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
            var c = [Float](repeating: 0, count: n * n)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                BLAS.sgemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                var runs = 0
                let start = DispatchTime.now().uptimeNanoseconds
                var elapsed = 0.0
                while elapsed < seconds {
                    BLAS.sgemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                    runs += 1
                    elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                }
                best = max(best, 2 * Double(n * n * n) * Double(runs) / elapsed / 1e9)
            }}}
        }
        return best
    }

    /// A batch of `count` synthetic tiles (seeded DN in the range of real SR data, metadata present).
    public static func syntheticBatch(count: Int, config: ModelConfig, seed: UInt64 = 1) -> EncoderBatch {
        var state = seed
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        let per = config.inChannels * config.imageSize * config.imageSize
        let dn = (0..<(count * per)).map { _ in UInt16(7000 + next() % 20000) }
        let enc = InputEncoding()
        return EncoderBatch(count: count, pixels: enc.normalize(dn, channels: config.inChannels, pixelsPerBand: config.imageSize * config.imageSize),
                            meta: enc.metadata(week: (0..<count).map { 1 + $0 % 52 }, hour: (0..<count).map { Double($0 % 24) + 0.3 },
                                               lat: (0..<count).map { Double($0 % 160) - 80 }, lon: (0..<count).map { Double($0 % 360) - 180 }))
    }

    /// Encoder tiles/s for one setting: one warm-up batch, then batches for at least `seconds`.
    public static func encoderThroughput(model: MoEMAEModel, batch: EncoderBatch, setting: Setting, seconds: Double = 3) throws -> Double {
        BLAS.setThreads(setting.blasThreads)   // process-wide: once per measured configuration
        let engine = InferenceEngine(model: model, workers: setting.workers)
        _ = try engine.encode(batch)
        var tiles = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        while elapsed < seconds {
            _ = try engine.encode(batch)
            tiles += batch.count
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        return Double(tiles) / elapsed
    }

    /// Runs every setting; `log` receives one line per result as it is measured.
    public static func run(model: MoEMAEModel, batchSize: Int, settings: [Setting], seconds: Double = 3,
                           log: (String) -> Void) throws -> [Row] {
        let config = model.config
        let flopPerTile = 2 * Double(config.encoderMultiplyAddsPerTile)
        log("OpenBLAS core: \(BLAS.coreName); config: \(BLAS.configString)")
        log("OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)") OPENBLAS_L2_SIZE=\(ProcessInfo.processInfo.environment["OPENBLAS_L2_SIZE"] ?? "(unset)")")
        log(String(format: "model %@ (D %d, %d layers): %.1f M multiply-adds = %.3f GFLOP per tile; batch %d",
                   config.preset, config.embedDim, config.depth, flopPerTile / 2e6, flopPerTile / 1e9, batchSize))
        log("precision: \(model.precision.rawValue)\(model.bf16Kernel.map { " (kernel \($0.rawValue))" } ?? ""); CPU: \(CPUFeatures.current.summary)")
        let batch = syntheticBatch(count: batchSize, config: config)
        // The peak is measured before and after each setting's encoder run and the best is kept: a
        // moment of interference on a 2-core machine (one core busy for a second) would otherwise
        // halve the 2-thread peak and inflate the fraction.
        var peaks: [Int: Double] = [:]
        var measured: [(Setting, Double)] = []
        for s in settings {
            if peaks[s.threads] == nil {
                let p = gemmPeak(threads: s.threads)
                peaks[s.threads] = p
                log(String(format: "sgemm peak with %d thread(s): %.1f GFLOP/s", s.threads, p))
            }
            let tps = try encoderThroughput(model: model, batch: batch, setting: s, seconds: seconds)
            measured.append((s, tps))
            log(String(format: "%@: %.1f tiles/s, %.1f GFLOP/s", s.description, tps, tps * flopPerTile / 1e9))
            let again = gemmPeak(threads: s.threads)
            if again > peaks[s.threads]! {
                peaks[s.threads] = again
                log(String(format: "sgemm peak with %d thread(s), measured again: %.1f GFLOP/s", s.threads, again))
            }
        }
        let rows = measured.map { s, tps in
            Row(setting: s, tilesPerSecond: tps, gflops: tps * flopPerTile / 1e9, peakGflops: peaks[s.threads]!)
        }
        log("summary (fraction of the best sgemm peak measured for the same thread count):")
        for row in rows {
            log(String(format: "  %@: %.1f tiles/s, %.1f GFLOP/s = %.0f%% of the %d-thread peak (%.1f GFLOP/s)",
                       row.setting.description, row.tilesPerSecond, row.gflops, 100 * row.fractionOfPeak,
                       row.setting.threads, row.peakGflops))
        }
        return rows
    }
}
