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

let preCollection = "LC80200392015216LGN00"
let antarctic = "LC08_L2SR_099120_20191129_20201016_02_T2"

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
