import CheckpointImport
import Foundation
import GeoRaster
import Landsat
import Pipeline
import Probe
import SafeTensors
import Tiling

/// The bytes of one fuzz input.
public struct FuzzInput {
    public let bytes: Data

    /// Copies `size` bytes from libFuzzer's buffer.
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
    }

    public init(_ bytes: Data) { self.bytes = bytes }
}

/// One function per parser of untrusted input, each feeding the input through the same entry point
/// the command line uses (docs/reliability.md, "Fuzzing"). The libFuzzer executables in `Fuzz/` call
/// these, and `FuzzRegressionTests` replays every saved input (`Fuzz/Regressions/<target>/`) through
/// them in the ordinary test run. Each returns true when the input was accepted (read without error).
/// A thrown error is the expected outcome for a broken input; a crash, a sanitizer report, a leak or a
/// time-out is a bug.
///
/// Parsers that take a path get the input as a file in a per-process scratch folder (in `/dev/shm`
/// when it exists, so a run does not wear the disk).
public enum FuzzTargets {
    /// Every target by name (the executable is `fuzz-<name>`, the regression folder `Fuzz/Regressions/<name>`).
    public static let all: [String: (FuzzInput) -> Bool] = [
        "mtl-odl": mtlOdl, "mtl-json": mtlJson, "mtl-xml": mtlXml, "safetensors": safetensors,
        "checkpoint": checkpoint, "npz": npz, "bigearthnet-labels": bigearthnetLabels,
        "pipeline-yaml": pipelineYaml, "dataset-manifest": datasetManifest, "resume-state": resumeState,
        "geotiff-band": geotiffBand, "stac-item": stacItem,
    ]

    /// MTL ODL text (`*_MTL.txt`) through the whole metadata reader.
    @discardableResult
    public static func mtlOdl(_ input: FuzzInput) -> Bool { mtl(input, format: .odl, name: "fuzz_MTL.txt") }
    /// MTL JSON (`*_MTL.json`).
    @discardableResult
    public static func mtlJson(_ input: FuzzInput) -> Bool { mtl(input, format: .json, name: "fuzz_MTL.json") }
    /// MTL XML (`*_MTL.xml`, libxml2).
    @discardableResult
    public static func mtlXml(_ input: FuzzInput) -> Bool { mtl(input, format: .xml, name: "fuzz_MTL.xml") }

    private static func mtl(_ input: FuzzInput, format: MTLDocument.Format, name: String) -> Bool {
        guard let document = try? MTLDocument(data: input.bytes, path: name, format: format) else { return false }
        return (try? LandsatMetadata(document: document)) != nil
    }

    /// A STAC Item or ItemCollection (`map`/`tile` inputs, docs/cloud.md) through `STACDocument` and, for
    /// every item it yields, band assets by common name for each sensor, QA and MTL assets, the metadata
    /// the item's properties give (acquisition, band set, readiness) and its disagreements with itself.
    /// Asset hrefs are only parsed, never opened (no network in a fuzz run).
    @discardableResult
    public static func stacItem(_ input: FuzzInput) -> Bool {
        guard let document = try? STACDocument(data: input.bytes, location: "fuzz-item.json") else { return false }
        let items: [STACSceneItem]
        switch document {
        case .item(let item): items = [item]
        case .collection(let results): items = results.compactMap { try? $0.get() }
        }
        var ok = !items.isEmpty
        for item in items {
            for sensor in [LandsatSensor.oliTirs, .etm, .tm, .mss] {
                for designation in 1...11 { _ = item.bandAsset(designation: String(designation), sensor: sensor)?.fileName }
            }
            _ = (item.qaPixelAsset?.readHref, item.mtlAsset?.fileName, item.epsg, item.datetime, item.provenanceProperties.count)
            guard let metadata = try? item.metadataFromProperties() else { ok = false; continue }
            _ = LandsatBandSet(metadata: metadata).modelReadiness.isReady
            _ = item.disagreements(with: metadata)
        }
        return ok
    }

    /// A safetensors file: header validation, then every tensor's bytes and values.
    @discardableResult
    public static func safetensors(_ input: FuzzInput) -> Bool {
        let path = scratch("fuzz.safetensors", input)
        guard let file = try? SafeTensorsFile(path: path) else { return false }
        var sum = 0
        for t in file.tensors {
            for byte in file.rawBytes(t) { sum &+= Int(byte) }
            if t.dtype.isFloatingPoint { _ = try? file.floats(t.name) } else if t.dtype != .bool { _ = try? file.ints(t.name) }
        }
        blackHole(sum)
        return true
    }

    /// A `torch.save` checkpoint: zip container, pickle program, storages, inventory.
    @discardableResult
    public static func checkpoint(_ input: FuzzInput) -> Bool {
        let path = scratch("fuzz.pth", input)
        guard let ckpt = try? TorchCheckpoint(path: path) else { return false }
        _ = TensorInventory(checkpoint: ckpt)
        return (try? ckpt.loadStateDict()) != nil
    }

    /// A `.npz` probe archive (zip of `.npy` arrays), as `moemae probe import` reads it.
    @discardableResult
    public static func npz(_ input: FuzzInput) -> Bool {
        let path = scratch("fuzz.npz", input)
        return (try? NumpyArray.archive(path: path)) != nil
    }

    /// One BigEarthNet `*_labels_metadata.json`.
    @discardableResult
    public static func bigearthnetLabels(_ input: FuzzInput) -> Bool {
        let path = scratch("fuzz_labels_metadata.json", input)
        return (try? BigEarthNetLabels.classes(ofFile: path)) != nil
    }

    /// A pipeline YAML file (`moemae run`).
    @discardableResult
    public static func pipelineYaml(_ input: FuzzInput) -> Bool {
        let path = scratch("fuzz.yaml", input)
        return (try? PipelineFile.load(path: path)) != nil
    }

    /// A dataset folder's `manifest.json` (`embed`, `probe`, `pretrain` open datasets through it).
    @discardableResult
    public static func datasetManifest(_ input: FuzzInput) -> Bool {
        let folder = scratchFolder + "/dataset"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        write(input.bytes, to: folder + "/manifest.json")
        return (try? Dataset(path: folder)) != nil
    }

    /// A map job's resume state (`<product>.progress.json`).
    @discardableResult
    public static func resumeState(_ input: FuzzInput) -> Bool {
        let path = scratch("fuzz.progress.json", input)
        guard let state = ResumeState.load(from: path) else { return false }
        return ResumeState.matching(at: path, fingerprint: state.fingerprint, gridRows: state.gridRows, gridCols: state.gridCols) != nil
    }

    /// A band GeoTIFF through GDAL as tiling opens it: size, georeferencing, CRS, and a window of
    /// up to 64×64 pixels of up to 4 bands read as UInt16.
    @discardableResult
    public static func geotiffBand(_ input: FuzzInput) -> Bool {
        let path = scratch("fuzz.tif", input)
        guard let dataset = try? RasterDataset(path: path) else { return false }
        _ = dataset.geoTransform
        _ = try? dataset.crs()
        guard dataset.width > 0, dataset.height > 0, dataset.bandCount > 0 else { return false }
        let window = RasterWindow(column: 0, row: 0, width: min(64, dataset.width), height: min(64, dataset.height))
        var ok = true
        for band in 1...min(4, dataset.bandCount) {
            _ = try? dataset.band(band)
            if (try? dataset.read(band: band, window: window, as: UInt16.self)) == nil { ok = false }
        }
        return ok
    }

    // MARK: - Scratch files

    /// A folder private to this process.
    static let scratchFolder: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let folder = (base as NSString).appendingPathComponent("moemae-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }()

    private static func scratch(_ name: String, _ input: FuzzInput) -> String {
        let path = (scratchFolder as NSString).appendingPathComponent(name)
        write(input.bytes, to: path)
        return path
    }

    private static func write(_ data: Data, to path: String) {
        // Not atomically: the same name is rewritten for every input.
        _ = FileManager.default.createFile(atPath: path, contents: data)
    }

    @inline(never)
    private static func blackHole(_ value: Int) {
        if value == -1 { print("") }
    }
}
