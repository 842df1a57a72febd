import Foundation
import MoEMAE
import Probe
import Tiling

/// `MoEMAEBenchmarks bf16-quality`: how far ``Precision/bf16`` moves the encoder's results from FP32
/// on real tiles (docs/performance.md, "bfloat16"). Runs the bf16 model through the AVX512_BF16 kernel
/// where the CPU has it, else through the portable kernel, which computes the same numbers
/// (`--kernel native|portable` chooses; native is refused on a CPU without AVX512_BF16).
///
/// Per dataset (a folder written by `moemae tile`; tiles without valid pixels are left out, as `map`
/// leaves them out): label agreement of the probe's arg-max (if a probe fitted on these weights is
/// given), top-1 and top-2 routing agreement per encoder layer over all tokens (top-2: the same two
/// experts in either order), and the embedding's relative error ‖e_bf16 − e_fp32‖ / ‖e_fp32‖ per tile.
enum BF16Quality {
    struct Tally {
        var tiles = 0, labelSame = 0
        var top1: [Int], top2: [Int], decisions = 0
        var relErrors: [Double] = []
        init(layers: Int) { top1 = [Int](repeating: 0, count: layers); top2 = top1 }

        mutating func add(_ other: Tally) {
            tiles += other.tiles; labelSame += other.labelSame; decisions += other.decisions
            for l in top1.indices { top1[l] += other.top1[l]; top2[l] += other.top2[l] }
            relErrors += other.relErrors
        }

        func report(_ name: String, labels: Bool) -> String {
            let layerTop1 = top1.map { Double($0) / Double(max(decisions, 1)) }
            let layerTop2 = top2.map { Double($0) / Double(max(decisions, 1)) }
            let sorted = relErrors.sorted()
            let mean = relErrors.reduce(0, +) / Double(max(relErrors.count, 1))
            let p = { (q: Double) in sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))] }
            var s = "\(name): \(tiles) tiles"
            if labels { s += String(format: "; labels agree %.2f %% (%d of %d)", 100 * Double(labelSame) / Double(max(tiles, 1)), labelSame, tiles) }
            s += String(format: "; routing top-1 agreement min/mean over layers %.2f / %.2f %%, top-2 %.2f / %.2f %%",
                        100 * (layerTop1.min() ?? 0), 100 * layerTop1.reduce(0, +) / Double(max(top1.count, 1)),
                        100 * (layerTop2.min() ?? 0), 100 * layerTop2.reduce(0, +) / Double(max(top2.count, 1)))
            s += String(format: "; embedding rel. error mean %.2e, median %.2e, p99 %.2e, max %.2e", mean, p(0.5), p(0.99), sorted.last ?? 0)
            s += "\n  top-1 per layer %: " + layerTop1.map { String(format: "%.1f", 100 * $0) }.joined(separator: " ")
            s += "\n  top-2 per layer %: " + layerTop2.map { String(format: "%.1f", 100 * $0) }.joined(separator: " ")
            return s
        }
    }

    static func run(arguments: [String]) throws {
        var weights: String?, probePath: String?, datasets: [String] = []
        var kernel: BF16Kernel = CPUFeatures.current.hasBF16Kernel ? .avx512bf16 : .portable
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--weights": weights = it.next()
            case "--probe": probePath = it.next()
            case "--kernel":
                switch it.next() {
                case "native": kernel = .avx512bf16
                case "portable": kernel = .portable
                case let k: throw ModelError.invalidInput("--kernel must be native or portable, not \(k ?? "nothing")")
                }
            default: datasets.append(a)
            }
        }
        guard let weights, !datasets.isEmpty else {
            throw ModelError.invalidInput("usage: MoEMAEBenchmarks bf16-quality --weights W.safetensors [--probe P.safetensors] [--kernel native|portable] DATASET...")
        }
        let fp32 = try MoEMAEModel.load(path: weights)
        let bf16 = try fp32.converted(to: .bf16, bf16Kernel: kernel)
        let probe = try probePath.map { try LinearProbe(contentsOf: $0) }
        let trained = try WeightsMetadata.read(path: weights)
        let cfg = fp32.config
        let engines = (InferenceEngine(model: fp32, workers: 2), InferenceEngine(model: bf16, workers: 2))
        print("weights \(weights)\(probePath.map { ", probe \($0)" } ?? ""); bf16 through the \(kernel == .portable ? "portable" : "AVX512_BF16") kernel; CPU \(CPUFeatures.current.summary)")
        var total = Tally(layers: cfg.depth)
        for path in datasets {
            let data = try Dataset(path: path)
            var encoding = trained?.inputEncoding ?? InputEncoding()
            encoding.hour = trained?.hour ?? (data.hourPolicy == .published ? .published : .utc)
            encoding.metadata = data.hasMetadata
            var tally = Tally(layers: cfg.depth)
            for si in data.shardPaths.indices {
                let shard = try data.shard(si)
                let week = try shard.week(), hour = try shard.hour(), lat = try shard.lat(), lon = try shard.lon()
                let valid = shard.file.info("valid_fraction") == nil ? nil : try shard.file.floats("valid_fraction")
                let keep = (0..<shard.count).filter { (valid?[$0] ?? 1) > 0 }
                var b0 = 0
                while b0 < keep.count {
                    let idx = Array(keep[b0..<min(keep.count, b0 + 64)])
                    var dn: [UInt16] = []
                    for i in idx { dn += try shard.pixels(i..<(i + 1)) }
                    let batch = try EncoderBatch(dn: dn, channels: cfg.inChannels, pixelsPerBand: cfg.imageSize * cfg.imageSize,
                                                 week: idx.map { week[$0] }, hour: idx.map { hour[$0] },
                                                 lat: idx.map { lat[$0] }, lon: idx.map { lon[$0] }, encoding: encoding)
                    let a = try engines.0.encode(batch), b = try engines.1.encode(batch)
                    compare(a, b, probe: probe, into: &tally)
                    b0 += idx.count
                }
            }
            print(tally.report((path as NSString).lastPathComponent, labels: probe != nil))
            total.add(tally)
        }
        print(total.report("all datasets", labels: probe != nil))
    }

    static func compare(_ a: EncoderResult, _ b: EncoderResult, probe: LinearProbe?, into t: inout Tally) {
        let n = a.count, d = a.dim, l = a.layers, tk = a.tokens
        t.tiles += n
        if let probe {
            let fa = probe.feature == .cls ? a.cls : a.embedding, fb = probe.feature == .cls ? b.cls : b.embedding
            let la = probe.multiclassLabels(scores: probe.scores(fa, count: n))
            let lb = probe.multiclassLabels(scores: probe.scores(fb, count: n))
            t.labelSame += zip(la, lb).filter { $0 == $1 }.count
        }
        for i in 0..<n {
            var num = 0.0, den = 0.0
            for j in 0..<d {
                let x = Double(a.embedding[i * d + j]), y = Double(b.embedding[i * d + j])
                num += (x - y) * (x - y); den += x * x
            }
            t.relErrors.append((num / max(den, 1e-30)).squareRoot())
            for layer in 0..<l {
                for tok in 0..<tk {
                    let o = ((i * l + layer) * tk + tok) * 2
                    let (a1, a2, b1, b2) = (a.experts[o], a.experts[o + 1], b.experts[o], b.experts[o + 1])
                    if a1 == b1 { t.top1[layer] += 1 }
                    if (a1 == b1 && a2 == b2) || (a1 == b2 && a2 == b1) { t.top2[layer] += 1 }
                }
            }
        }
        t.decisions += n * tk
    }
}
