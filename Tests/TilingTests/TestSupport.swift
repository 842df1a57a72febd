import Foundation
import XCTest

/// `../shared` beside the repository root (walk up from this file to the folder holding Package.swift).
let sharedDirectory: String = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while url.path != "/" {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            return url.deletingLastPathComponent().appendingPathComponent("shared").path
        }
        url.deleteLastPathComponent()
    }
    return "../shared"
}()

func scenePath(_ product: String, _ suffix: String) -> String {
    "\(sharedDirectory)/data/scenes/\(product)/\(product)_\(suffix)"
}




/// Runs a command-line tool and returns its standard output (fails the test on a non-zero exit).
func runTool(_ tool: String, _ args: [String], stdin: String? = nil) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [tool] + args
    let out = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    if stdin != nil { p.standardInput = inp }
    try p.run()
    if let stdin { inp.fileHandleForWriting.write(stdin.data(using: .utf8)!); try inp.fileHandleForWriting.close() }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw NSError(domain: tool, code: Int(p.terminationStatus)) }
    return String(decoding: data, as: UTF8.self)
}

/// Independent transform with GDAL's command-line tool; returns (lon, lat).
func gdaltransform(_ srs: String, _ x: Double, _ y: Double) throws -> (lon: Double, lat: Double) {
    // gdaltransform prints in traditional GIS order (lon lat) for EPSG:4326 targets (GDAL ≥ 3).
    let out = try runTool("gdaltransform", ["-s_srs", srs, "-t_srs", "EPSG:4326", "-output_xy"], stdin: "\(x) \(y)\n")
    let parts = out.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
    guard parts.count >= 2 else { throw NSError(domain: "gdaltransform output: \(out)", code: 1) }
    return (parts[0], parts[1])
}

func makeTempDirectory(_ prefix: String) -> String {
    let dir = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
import Tiling

let preCollection = "LC80200392015216LGN00"
let antarctic = "LC08_L2SR_099120_20191129_20201016_02_T2"

/// The pre-collection scene's bands 1–7 + BQA described by hand (independent of MTL parsing).
func preCollectionSource() -> SceneSource {
    SceneSource(id: preCollection, sensor: "OLI_TIRS", spacecraft: "LANDSAT_8", collection: "pre-collection", level: "L1T",
                acquired: "2015-08-04T16:19:21.79Z", week: 32, hour: 16 + 19.0 / 60 + 21.7917421 / 3600,
                bands: (1...7).map { SceneSource.BandFile(name: "B\($0)", path: scenePath(preCollection, "B\($0).TIF")) },
                qaFile: scenePath(preCollection, "BQA.TIF"), modelReady: false,
                metadataFiles: [scenePath(preCollection, "MTL.txt")])
}

/// Runs python3 with a script; returns stdout. Throws with stderr on failure.
func runPython(_ script: String, _ args: [String] = []) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script] + args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw NSError(domain: "python3 failed: " + String(decoding: e, as: UTF8.self), code: Int(p.terminationStatus))
    }
    return String(decoding: o, as: UTF8.self)
}

/// MTL text value of `key` (first occurrence), unquoted.
func mtlValue(_ mtl: String, _ key: String) -> String? {
    for line in mtl.split(separator: "\n") {
        let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 2, parts[0] == key { return parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
    }
    return nil
}
