import Foundation

// Helpers shared by the test targets (GeoRasterTests, TilingTests, EndToEndTests): where the shared
// real data lives, temporary folders, and running GDAL's command-line tools and Python as independent
// references.

/// The folder holding Package.swift (walking up from this file).
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while url.path != "/" {
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        url.deleteLastPathComponent()
    }
    return "."
}()

/// `../shared` beside the repository root.
public let sharedDirectory: String = URL(fileURLWithPath: repositoryRoot).deletingLastPathComponent().appendingPathComponent("shared").path

/// The pre-collection scene (627×603 at 30 m, UTM 16N) and the Antarctic scene (polar stereographic).
public let preCollection = "LC80200392015216LGN00"
public let antarctic = "LC08_L2SR_099120_20191129_20201016_02_T2"

/// A shared scene folder.
public func sceneFolder(_ product: String) -> String { "\(sharedDirectory)/data/scenes/\(product)" }

/// A file of a shared scene: `scenePath(id, "B4.TIF")` → `…/id/id_B4.TIF`.
public func scenePath(_ product: String, _ suffix: String) -> String { "\(sceneFolder(product))/\(product)_\(suffix)" }

/// A new empty folder under the system temporary folder.
public func makeTempDirectory(_ prefix: String) -> String {
    let dir = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A finished process: exit status and its output.
public struct ProcessResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable args…` (in `folder`, optionally feeding `stdin`) and waits; both pipes are
/// drained concurrently so a chatty child cannot block.
public func runProcess(_ executable: String, _ args: [String], in folder: String? = nil, stdin: String? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    if let folder { p.currentDirectoryURL = URL(fileURLWithPath: folder) }
    let input = Pipe(), out = Pipe(), err = Pipe()
    if stdin != nil { p.standardInput = input }
    p.standardOutput = out; p.standardError = err
    try p.run()
    if let stdin {
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
    }
    final class Collected: @unchecked Sendable { var data = Data() }  // written by one thread, read after group.wait()
    let errData = Collected()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { errData.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData.data, as: UTF8.self))
}

/// Runs a tool found on PATH (`gdalinfo`, `gdaltransform`, …) and returns its standard output;
/// throws with the tool's stderr when it exits non-zero.
@discardableResult
public func runTool(_ tool: String, _ args: [String], stdin: String? = nil) throws -> String {
    let r = try runProcess("/usr/bin/env", [tool] + args, stdin: stdin)
    guard r.status == 0 else {
        throw NSError(domain: "\(tool) \(args.joined(separator: " ")) failed (\(r.status)): \(r.stderr)", code: Int(r.status))
    }
    return r.stdout
}

/// Runs python3 with a script (`python3 -c script args…`); returns stdout.
public func runPython(_ script: String, _ args: [String] = []) throws -> String {
    try runTool("python3", ["-c", script] + args)
}

/// Independent transform with GDAL's command-line tool; returns (lon, lat).
public func gdaltransform(_ srs: String, _ x: Double, _ y: Double) throws -> (lon: Double, lat: Double) {
    // gdaltransform prints in traditional GIS order (lon lat) for EPSG:4326 targets (GDAL ≥ 3).
    let out = try runTool("gdaltransform", ["-s_srs", srs, "-t_srs", "EPSG:4326", "-output_xy"], stdin: "\(x) \(y)\n")
    let parts = out.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
    guard parts.count >= 2 else { throw NSError(domain: "gdaltransform output: \(out)", code: 1) }
    return (parts[0], parts[1])
}

/// Mounts a tmpfs of `kib` KiB at the existing folder `path`: a real file system that fills up (ENOSPC),
/// or with `readOnly` one that refuses writes (EROFS). Mounting needs root (CI runs as root); returns
/// why it could not mount (the caller skips its test), nil when mounted. Unmount with ``unmountTmpfs(_:)``.
public func mountTmpfs(at path: String, kib: Int, readOnly: Bool = false) -> String? {
    guard geteuid() == 0 else { return "mounting a size-limited tmpfs needs root (mount -t tmpfs)" }
    let options = "size=\(kib)k" + (readOnly ? ",ro" : "")
    guard let r = try? runProcess("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", path]) else { return "cannot run /bin/mount" }
    return r.status == 0 ? nil : "cannot mount a tmpfs at \(path) (not permitted in this container?): \(r.stderr)"
}

/// Unmounts what ``mountTmpfs(at:kib:readOnly:)`` mounted (lazily if it is still busy).
public func unmountTmpfs(_ path: String) {
    if (try? runProcess("/bin/umount", [path]))?.status != 0 { _ = try? runProcess("/bin/umount", ["-l", path]) }
}
