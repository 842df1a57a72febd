import Foundation
import MoEMAE

/// The settings of a pretraining run (recorded in checkpoints; `--resume` continues with them).
/// Defaults are the published recipe (docs/model.md; issue "MAE pretraining").
public struct PretrainingRun: Codable, Sendable, Equatable {
    public var epochs: Int = 10
    public var batchSize: Int = 32
    public var seed: UInt64 = 0
    public var maskRatio: Double = 0.75
    public var learningRate: Double = 3e-4
    public var weightDecay: Double = 0.05
    public var warmupFraction: Double = 0.05
    public var clipNorm: Double = 1.0
    public var expertDropout: Double = 0.1
    public var gateNoise: Bool = true
    /// Number of tiles in the (filtered) training set; the step count follows from it.
    public var tiles: Int = 0
    /// Where the tiles came from (dataset paths), for the record.
    public var datasets: [String] = []
    public var minValid: Double = 0

    public init() {}

    package enum CodingKeys: String, CodingKey {
        case epochs, batchSize = "batch_size", seed, maskRatio = "mask_ratio", learningRate = "learning_rate"
        case weightDecay = "weight_decay", warmupFraction = "warmup_fraction", clipNorm = "clip_norm"
        case expertDropout = "expert_dropout", gateNoise = "gate_noise", tiles, datasets, minValid = "min_valid"
    }

    /// Optimizer steps per epoch: every tile once, the last batch possibly smaller.
    public var stepsPerEpoch: Int { max(1, (tiles + batchSize - 1) / batchSize) }
    public var totalSteps: Int { epochs * stepsPerEpoch }
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(base: learningRate, totalSteps: totalSteps, warmupFraction: warmupFraction)
    }
    public var mode: TrainingMode { TrainingMode(gateNoise: gateNoise, expertDropout: Float(expertDropout)) }
}

/// Raw training tiles: digital numbers and metadata, as a dataset stores them.
public struct RawTiles: Sendable {
    /// `[n, C, S, S]` raw digital numbers in band order SR_B1…SR_B7.
    public var pixels: [UInt16]
    public var week: [Int]
    /// True UTC hour of day with fraction.
    public var hour: [Double]
    public var lat: [Double]
    public var lon: [Double]
    /// Per tile: false when its dataset has no metadata (the four tokens get zero vectors).
    public var hasMetadata: [Bool]

    public init(pixels: [UInt16], week: [Int], hour: [Double], lat: [Double], lon: [Double], hasMetadata: [Bool]) {
        self.pixels = pixels; self.week = week; self.hour = hour; self.lat = lat; self.lon = lon; self.hasMetadata = hasMetadata
    }
}

/// Where pretraining reads its tiles from (the CLI adapts `moemae tile` datasets to it).
public protocol PretrainingTileSource {
    /// Number of training tiles.
    var count: Int { get }
    /// The tiles with these indices (0..<count), in this order.
    func tiles(_ indices: [Int]) throws -> RawTiles
}

/// One line of `train.jsonl`.
public struct TrainingRecord: Codable, Sendable {
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var lossMasked: Double
    public var lossUnmasked: Double
    public var moeLoss: Double
    public var lr: Double
    public var tilesPerSecond: Double
    public var gradNorm: Double
    public var tiles: Int

    package enum CodingKeys: String, CodingKey {
        case step, epoch, loss, lossMasked = "loss_masked", lossUnmasked = "loss_unmasked", moeLoss = "moe_loss", lr
        case tilesPerSecond = "tiles_per_s", gradNorm = "grad_norm", tiles
    }
}

/// The pretraining loop: shuffled epochs, random masks, the masked-autoencoder loss and its gradients
/// (``MaskedAutoencoderStep``), clipping, AdamW with warm-up and cosine decay, checkpoints.
///
/// Randomness is counter-based (``TrainingRandom``): epoch e's shuffle and masks, and step s's gate
/// noise and expert dropout, depend only on the seed and e or s — so a resumed run repeats exactly
/// what an uninterrupted run would have done.
public final class Pretrainer {
    public private(set) var store: ParameterStore
    public private(set) var optimizer: AdamW
    public let run: PretrainingRun
    public let encoding: InputEncoding
    public let source: PretrainingTileSource
    package let step: TrainingStep
    package let kept: Int
    package var gradients: [Float]

    /// - Parameters: `optimizer` carries the step count (0 for a new run; the checkpoint's on resume).
    /// - Parameters: `workers` threads share each batch (``TrainingStep``; use single-threaded BLAS with more than one).
    public init(store: ParameterStore, optimizer: AdamW? = nil, run: PretrainingRun, encoding: InputEncoding,
                source: PretrainingTileSource, workers: Int = 1) throws {
        guard source.count > 0 else { throw ModelError.invalidInput("no training tiles (all below the minimum valid fraction, or empty datasets)") }
        guard run.batchSize > 0, run.epochs > 0 else { throw ModelError.invalidInput("batch size and epochs must be positive") }
        self.store = store
        self.optimizer = optimizer ?? AdamW(parameterCount: store.layout.totalCount, weightDecay: Float(run.weightDecay))
        self.run = run
        self.encoding = encoding
        self.source = source
        kept = PatchMask.keptCount(ratio: run.maskRatio, patchCount: store.config.patchCount)
        step = TrainingStep(layout: store.layout, maxTiles: run.batchSize, kept: kept, workers: workers)
        gradients = [Float](repeating: 0, count: store.layout.totalCount)
    }

    public var stepsDone: Int { optimizer.step }

    /// The tile order of epoch `e` (a seeded permutation).
    public func order(epoch e: Int) -> [Int] {
        var rng = TrainingRandom(seed: run.seed, stream: .shuffle, counter: UInt64(e))
        return rng.permutation(source.count)
    }

    /// The mask seed of epoch `e`: tile i's kept patches are `PatchMask.keep(tileIndex: i, seed: maskSeed(e))`.
    public func maskSeed(epoch e: Int) -> UInt64 {
        var rng = TrainingRandom(seed: run.seed, stream: .mask, counter: UInt64(e))
        return rng.next()
    }

    /// Runs optimizer steps until `until` (default: the end of the run) or until `shouldStop` says so,
    /// calling `record` after every step and `checkpoint` when one is due.
    public func train(until: Int? = nil, shouldStop: () -> Bool = { false }, record: (TrainingRecord) throws -> Void,
                      checkpoint: (Pretrainer) throws -> Void = { _ in }, checkpointEvery: Int = 0) throws {
        let last = min(until ?? run.totalSteps, run.totalSteps)
        let perEpoch = run.stepsPerEpoch
        var currentEpoch = -1
        var order: [Int] = []
        var maskSeed: UInt64 = 0
        let schedule = run.schedule
        let mode = run.mode
        let c = store.config
        let pixelsPerTile = c.inChannels * c.imageSize * c.imageSize
        while optimizer.step < last && !shouldStop() {
            let s = optimizer.step
            let epoch = s / perEpoch, inEpoch = s % perEpoch
            if epoch != currentEpoch {
                currentEpoch = epoch; order = self.order(epoch: epoch); maskSeed = self.maskSeed(epoch: epoch)
            }
            let start = Date()
            let indices = Array(order[(inEpoch * run.batchSize)..<min(order.count, (inEpoch + 1) * run.batchSize)])
            let raw = try source.tiles(indices)
            let n = indices.count
            guard raw.pixels.count == n * pixelsPerTile, raw.week.count == n, raw.hour.count == n, raw.lat.count == n,
                  raw.lon.count == n, raw.hasMetadata.count == n else {
                throw ModelError.invalidInput("tile source returned \(raw.pixels.count) pixel values and \(raw.week.count) metadata rows for \(n) tiles")
            }
            let images = encoding.normalize(raw.pixels, channels: c.inChannels, pixelsPerBand: c.imageSize * c.imageSize)
            var meta = [Float](repeating: 0, count: 8 * n)
            for i in 0..<n where raw.hasMetadata[i] && encoding.metadata {
                let v = encoding.metadataVector(week: raw.week[i], hour: raw.hour[i], lat: raw.lat[i], lon: raw.lon[i])
                for j in 0..<8 { meta[8 * i + j] = v[j] }
            }
            var keep: [Int32] = []
            keep.reserveCapacity(n * kept)
            for i in indices { keep += PatchMask.keep(tileIndex: i, seed: maskSeed, patchCount: c.patchCount, kept: kept) }
            var rng = TrainingRandom(seed: run.seed, stream: .step, counter: UInt64(s))
            let model = try store.model()
            let terms = step.run(model: model, images: images, meta: meta, tiles: n, keep: keep, mode: mode, seed: rng.next(),
                                 grads: &gradients)
            guard terms.loss.isFinite else {
                throw ModelError.invalidInput("loss became \(terms.loss) at step \(s + 1) (epoch \(epoch + 1)); lower the learning rate or check the data")
            }
            let norm = gradients.withUnsafeMutableBufferPointer {
                GradientClipping.clip($0.baseAddress!, count: $0.count, maxNorm: run.clipNorm)
            }
            let lr = schedule.rate(step: s)
            gradients.withUnsafeBufferPointer { optimizer.update(&store.values, gradients: $0.baseAddress!, lr: Float(lr)) }
            let seconds = Date().timeIntervalSince(start)
            try record(TrainingRecord(step: s + 1, epoch: epoch + 1, loss: terms.loss, lossMasked: terms.lossMasked,
                                      lossUnmasked: terms.lossUnmasked, moeLoss: terms.moeLoss, lr: lr,
                                      tilesPerSecond: Double(n) / max(seconds, 1e-9), gradNorm: norm, tiles: n))
            if checkpointEvery > 0 && optimizer.step % checkpointEvery == 0 && optimizer.step < run.totalSteps {
                try checkpoint(self)
            }
        }
    }
}
