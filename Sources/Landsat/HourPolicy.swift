/// How the acquisition hour becomes the model's hour input φ = 2π·hour/24 — the one hour-policy type
/// of every module (datasets record it, weights and probes record the one they were trained with,
/// the encoder applies it).
///
/// Datasets always store the true UTC hour of day (with fraction); the policy is applied when the
/// model input is encoded (`InputEncoding` in the MoEMAE module). Text form (`utc`, `published`) only
/// in files: manifests, weights and probe metadata, pipeline files, the command line.
public enum HourPolicy: String, Codable, Sendable, CaseIterable {
    /// φ = 2π·hour/24 with the true UTC hour of day, fraction included.
    case utc
    /// The convention of the published pretraining (docs/model.md, "Known quirks"): only the first
    /// digit of the two-digit UTC hour was kept, so the model hour is `floor(hour) / 10` (10:10 → 1,
    /// 09:30 → 0, 16:19 → 1).
    case published

    /// The hour value fed to φ for a true UTC hour of day.
    @inline(__always)
    public func modelHour(_ utcHour: Double) -> Double {
        switch self {
        case .utc: return utcHour
        case .published: return Double(Int(utcHour.rounded(.down)) / 10)
        }
    }
}
