import Foundation
import MoEMAE
import Probe

/// The encoder worker of `moemae map`: the MoE-MAE encoder (one ``InferenceEngine`` per worker, with its
/// own workspaces) followed by the linear probe head.
///
/// Input normalisation and metadata encoding are MoEMAE's ``InputEncoding`` (the one place they are
/// computed, shared with `embed`); the probe's feature is the embedding (mean of the 105 un-normalised
/// final tokens) or the CLS token, as the probe file says; the label is the arg-max of the probe's
/// scores (the first class on ties), for multi-label probes too.
public final class MoEMAEBatchEncoder: TileBatchEncoder {
    public let engine: InferenceEngine
    public let probe: LinearProbe
    public let encoding: InputEncoding
    public let keepScores: Bool
    public let keepEmbeddings: Bool

    /// OpenBLAS's thread count is the job's (``BLAS/setThreads(_:)``, set once by ``MapJob/run``), not the worker's.
    public init(model: MoEMAEModel, probe: LinearProbe, encoding: InputEncoding, keepScores: Bool, keepEmbeddings: Bool) {
        engine = InferenceEngine(model: model, workers: 1)
        self.probe = probe; self.encoding = encoding; self.keepScores = keepScores; self.keepEmbeddings = keepEmbeddings
    }

    public func encode(_ batch: TileBatch) throws -> BatchResult {
        let c = engine.config
        let m = batch.mapped
        let input = try EncoderBatch(dn: m.pixels, channels: c.inChannels, pixelsPerBand: c.imageSize * c.imageSize,
                                     week: m.week, hour: m.hour, lat: m.lat, lon: m.lon, encoding: encoding)
        let result = try engine.encode(input)
        let features = probe.feature == .cls ? result.cls : result.embedding
        let scores = probe.scores(features, count: result.count)
        let labels = probe.multiclassLabels(scores: scores).map { UInt8(clamping: $0) }
        return BatchResult(sequence: batch.sequence, tiles: batch.tiles, labels: labels, routing: result.experts,
                           scores: keepScores ? scores : nil, embeddings: keepEmbeddings ? features : nil)
    }
}
