import Dispatch

/// Runs the model over batches of tiles with a fixed number of encoder workers, each with its own
/// preallocated ``Workspace`` (nothing is allocated per tile or token). A batch is split into
/// contiguous slices, one per worker; each worker runs every Linear of its slice as one GEMM.
///
/// Threads: `workers` encoder workers × the OpenBLAS threads per call. OpenBLAS's thread count is
/// process-wide, so the engine does not set it: the job that owns the process sets it once when it is
/// set up (``BLAS/setThreads(_:)``: `MapJob.run`, `embed`, the benchmarks). On a 2-core machine either
/// 1 worker × 2 BLAS threads or 2 workers × 1 BLAS thread (see docs/performance.md).
/// A class because it owns the workspaces; one `encode` at a time (not reentrant).
public final class InferenceEngine: @unchecked Sendable {
    public let model: MoEMAEModel
    public let workers: Int
    private var encoderSpaces: [Workspace] = []
    private var decoderSpaces: [Workspace] = []

    public init(model: MoEMAEModel, workers: Int = 1) {
        self.model = model
        self.workers = max(1, workers)
    }

    public var config: ModelConfig { model.config }

    /// Slices of `count` tiles for the workers.
    private func slices(_ count: Int) -> [Range<Int>] {
        let w = min(workers, max(count, 1))
        return (0..<w).map { i in (count * i / w)..<(count * (i + 1) / w) }.filter { !$0.isEmpty }
    }

    private func encoderSpace(_ i: Int, tiles: Int) -> Workspace {
        while encoderSpaces.count <= i { encoderSpaces.append(Workspace(encoder: config, maxTiles: tiles)) }
        if encoderSpaces[i].maxTiles < tiles { encoderSpaces[i] = Workspace(encoder: config, maxTiles: tiles) }
        return encoderSpaces[i]
    }

    private func decoderSpace(_ i: Int, tiles: Int) -> Workspace {
        while decoderSpaces.count <= i { decoderSpaces.append(Workspace(decoder: config, maxTiles: tiles)) }
        if decoderSpaces[i].maxTiles < tiles { decoderSpaces[i] = Workspace(decoder: config, maxTiles: tiles) }
        return decoderSpaces[i]
    }

    private func run(_ parts: [Range<Int>], _ body: (Int, Range<Int>) -> Void) {
        if parts.count == 1 { body(0, parts[0]); return }
        DispatchQueue.concurrentPerform(iterations: parts.count) { body($0, parts[$0]) }
    }

    /// Encodes whole tiles (all patches). Throws ``ModelError/invalidInput(_:)`` on a malformed batch.
    public func encode(_ batch: EncoderBatch, outputs: EncoderOutputs = []) throws -> EncoderResult {
        try check(batch)
        let n = batch.count, d = config.embedDim, t = config.tokenCount, l = config.depth
        var embedding = [Float](repeating: 0, count: n * d)
        var cls = [Float](repeating: 0, count: n * d)
        var experts = [UInt8](repeating: 0, count: n * l * t * 2)
        var gates = [Float](repeating: 0, count: n * l * t * 2)
        var preLN: [Float]? = outputs.contains(.tokensPreLN) ? [Float](repeating: 0, count: n * t * d) : nil
        var lnTokens: [Float]? = outputs.contains(.tokensLN) ? [Float](repeating: 0, count: n * t * d) : nil
        let parts = slices(n)
        let spaces = parts.indices.map { encoderSpace($0, tiles: parts[$0].count) }
        let pixelsPerTile = config.inChannels * config.imageSize * config.imageSize
        let encoder = model.encoder
        batch.pixels.withUnsafeBufferPointer { pix in
            withOptionalPointer(batch.meta) { meta in
                embedding.withUnsafeMutableBufferPointer { emb in
                cls.withUnsafeMutableBufferPointer { clsOut in
                experts.withUnsafeMutableBufferPointer { ex in
                gates.withUnsafeMutableBufferPointer { ga in
                withOptionalMutablePointer(&preLN) { pre in
                withOptionalMutablePointer(&lnTokens) { lnOut in
                    run(parts) { w, range in
                        let ws = spaces[w], b0 = range.lowerBound, tiles = range.count
                        encoder.forward(images: pix.baseAddress! + b0 * pixelsPerTile, meta: meta.map { $0 + 8 * b0 }, tiles: tiles,
                                        ws: ws, experts: ex.baseAddress! + b0 * l * t * 2, gates: ga.baseAddress! + b0 * l * t * 2)
                        let inv = 1 / Float(t)
                        for b in 0..<tiles {
                            let tok = ws.x + b * t * d
                            let e = emb.baseAddress! + (b0 + b) * d
                            for r in 0..<t { for i in 0..<d { e[i] += tok[r * d + i] } }
                            for i in 0..<d { e[i] *= inv }
                            (clsOut.baseAddress! + (b0 + b) * d).update(from: tok + ModelConfig.clsIndex * d, count: d)
                        }
                        pre?.advanced(by: b0 * t * d).update(from: ws.x, count: tiles * t * d)
                        lnOut?.advanced(by: b0 * t * d).update(from: ws.xn, count: tiles * t * d)
                    }
                }}}}}}
            }
        }
        return EncoderResult(count: n, dim: d, layers: l, tokens: t, embedding: embedding, cls: cls, experts: experts, gates: gates,
                             tokensPreLN: preLN, tokensLN: lnTokens)
    }

    /// Reconstructs tiles with the masked autoencoder. `keep` is `[count, kept]` patch numbers in
    /// encoder token order (e.g. ``PatchMask/keep(tileIndex:seed:patchCount:kept:)``); nil keeps every
    /// patch in order (mask ratio 0, deterministic). Throws ``ModelError`` if the model has no decoder.
    public func reconstruct(_ batch: EncoderBatch, keep: [Int32]? = nil, kept: Int? = nil) throws -> ReconstructionResult {
        try check(batch)
        guard let decoder = model.decoder else {
            throw ModelError.invalidInput("the weights have no decoder (decoder_* keys), so they cannot reconstruct tiles")
        }
        let n = batch.count, p = config.patchCount, f = config.patchFeatures
        let kept = keep == nil ? p : (kept ?? p)
        if let keep {
            guard kept > 0, kept <= p, keep.count == n * kept, keep.allSatisfy({ $0 >= 0 && Int($0) < p }) else {
                throw ModelError.invalidInput("keep must hold \(n)×\(kept) patch numbers in 0..<\(p)")
            }
            for b in 0..<n where Set(keep[(b * kept)..<((b + 1) * kept)]).count != kept {
                throw ModelError.invalidInput("keep of tile \(b) repeats a patch")
            }
        }
        let keepAll = keep ?? (0..<n).flatMap { _ in (0..<p).map(Int32.init) }
        var prediction = [Float](repeating: 0, count: n * p * f)
        var mse = [Float](repeating: 0, count: n)
        let parts = slices(n)
        let encSpaces = parts.indices.map { encoderSpace($0, tiles: parts[$0].count) }
        let decSpaces = parts.indices.map { decoderSpace($0, tiles: parts[$0].count) }
        let pixelsPerTile = config.inChannels * config.imageSize * config.imageSize
        let encoder = model.encoder, patchEmbedding = encoder.patchEmbedding
        batch.pixels.withUnsafeBufferPointer { pix in
            withOptionalPointer(batch.meta) { meta in
                keepAll.withUnsafeBufferPointer { kp in
                prediction.withUnsafeMutableBufferPointer { pred in
                mse.withUnsafeMutableBufferPointer { mseOut in
                    run(parts) { w, range in
                        let ws = encSpaces[w], dws = decSpaces[w], b0 = range.lowerBound, tiles = range.count
                        let keepPtr = kp.baseAddress! + b0 * kept
                        encoder.forward(images: pix.baseAddress! + b0 * pixelsPerTile, meta: meta.map { $0 + 8 * b0 }, tiles: tiles,
                                        keep: keepPtr, kept: kept, ws: ws)
                        decoder.forward(encoded: ws.xn, tiles: tiles, keep: keepPtr, kept: kept, ws: dws,
                                        prediction: pred.baseAddress! + b0 * p * f)
                        // Squared error against the unfolded z-scored input, over masked patches (all if none).
                        let target = dws.gathered
                        for b in 0..<tiles {
                            // (every patch counts when none is masked)
                            var masked = [Bool](repeating: true, count: p)
                            if kept < p { for k in 0..<kept { masked[Int(keepPtr[b * kept + k])] = false } }
                            var sum: Double = 0, count = 0
                            for patch in 0..<p where masked[patch] {
                                patchEmbedding.unfold(image: pix.baseAddress! + (b0 + b) * pixelsPerTile, patch: patch, into: target)
                                let pr = pred.baseAddress! + ((b0 + b) * p + patch) * f
                                for i in 0..<f { let e = Double(pr[i] - target[i]); sum += e * e }
                                count += f
                            }
                            mseOut[b0 + b] = count > 0 ? Float(sum / Double(count)) : 0
                        }
                    }
                }}}
            }
        }
        return ReconstructionResult(count: n, prediction: prediction, keep: keepAll, kept: kept, mse: mse)
    }

    private func check(_ batch: EncoderBatch) throws {
        let per = config.inChannels * config.imageSize * config.imageSize
        guard batch.pixels.count == batch.count * per else {
            throw ModelError.invalidInput("batch of \(batch.count) tiles needs \(batch.count * per) pixel values, got \(batch.pixels.count)")
        }
        if let m = batch.meta, m.count != 8 * batch.count {
            throw ModelError.invalidInput("batch of \(batch.count) tiles needs \(8 * batch.count) metadata values, got \(m.count)")
        }
    }
}

@inline(__always)
package func withOptionalPointer<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let a else { return body(nil) }
    return a.withUnsafeBufferPointer { body($0.baseAddress) }
}

@inline(__always)
package func withOptionalMutablePointer<R>(_ a: inout [Float]?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard a != nil else { return body(nil) }
    return a!.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}
