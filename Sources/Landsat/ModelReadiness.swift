import Diagnostics

/// Whether a scene's bands can be fed to the MoE-MAE model, and why not.
///
/// The model was pretrained on Landsat 8/9 Collection 2 Level-2 surface reflectance `SR_B1…SR_B7`
/// (docs/model.md); its normalisation statistics are those of that product. Policy (docs/bands.md):
/// - ``ready``: C2 L2 SR of Landsat 8/9 OLI, bands 1-7 — used as is.
/// - ``requiresOverride(_:)``: OLI bands 1-7 of another product (Level-1 digital numbers, Collection 1,
///   pre-collection). Same spectral bands, different radiometry: fed to the model only when the user
///   allows it (the setting ``Setting/allowNonSR``, `--allow-non-sr` on the command line), never silently.
/// - ``incompatible(_:)``: the scene lacks the model's seven bands (TM/ETM+ have no coastal band 1 and
///   different band numbers, MSS has four bands, a listed band is missing). No flag feeds these to the
///   model: that would be a band substitution. They can still be tiled.
public enum ModelReadiness: Sendable, Hashable, CustomStringConvertible {
    case ready
    case requiresOverride(String)
    case incompatible(String)

    /// True only for ``ready``.
    public var isReady: Bool { self == .ready }

    /// Why the scene is not ready; nil when it is.
    public var reason: String? {
        switch self {
        case .ready: return nil
        case .requiresOverride(let r), .incompatible(let r): return r
        }
    }

    /// True when the model may read the scene given the user's choice of `--allow-non-sr`.
    public func allowsModel(allowNonSR: Bool) -> Bool {
        switch self {
        case .ready: return true
        case .requiresOverride: return allowNonSR
        case .incompatible: return false
        }
    }

    /// Throws ``LandsatError/Code/notModelReady`` naming `path` (the scene) unless
    /// ``allowsModel(allowNonSR:)``. The message says why and whether `--allow-non-sr` would help.
    public func require(allowNonSR: Bool, path: String) throws {
        switch self {
        case .ready: return
        case .requiresOverride(let reason):
            if allowNonSR { return }
            throw LandsatError(.notModelReady, path: path,
                               "not model-ready: \(reason). The model was pretrained on Landsat 8/9 Collection 2 Level-2 surface reflectance SR_B1..SR_B7; allow non-SR input to feed these bands anyway (outputs will be less reliable), or use the scene's C2 L2 product (see docs/bands.md)",
                               settings: [.allowNonSR])
        case .incompatible(let reason):
            throw LandsatError(.notModelReady, path: path,
                               "cannot be fed to the model: \(reason). The model needs the seven OLI bands SR_B1..SR_B7; allowing non-SR input does not apply because that would substitute bands (see docs/bands.md). The scene can still be tiled")
        }
    }

    public var description: String {
        switch self {
        case .ready: return "ready"
        case .requiresOverride(let r): return "requires \(Setting.allowNonSR.rawValue): \(r)"
        case .incompatible(let r): return "incompatible: \(r)"
        }
    }
}
