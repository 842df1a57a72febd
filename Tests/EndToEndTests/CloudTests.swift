import Foundation
import XCTest

/// Scenes read where they live (docs/cloud.md): STAC Items, ItemCollections, COGs on a real S3 API
/// (moto's server) and on a plain HTTP server, both on 127.0.0.1 (Python/cloud_fixture.py), and outputs
/// written to the S3 API. No internet.
final class CloudTests: XCTestCase {
    static let product = "LC08_L2SP_008059_20191201_20200825_02_T1"
    static let second = "LC08_L2SP_017036_20130419_20200913_02_T2"
    static let weights = "\(repositoryRoot)/models/default/weights.safetensors"
    static let probe = "\(repositoryRoot)/models/default/probe-bigearthnet19.safetensors"
    nonisolated(unsafe) static var fixture: CloudFixture?

    override class func tearDown() {
        fixture?.stop()
        fixture = nil
        super.tearDown()
    }

    /// The shared fixture (both scenes), started on first use.
    func shared() throws -> CloudFixture {
        if let f = Self.fixture { return f }
        let f = try CloudFixture(products: [Self.product, Self.second])
        Self.fixture = f
        return f
    }

    /// `map` of the shared scene folder (the reference every route is compared with), run once.
    func localMap(_ fx: CloudFixture) throws -> String {
        let dir = fx.work + "/local-map"
        if FileManager.default.fileExists(atPath: "\(dir)/\(Self.product).stac.json") { return dir }
        let r = try fx.moemae(mapArguments(sceneFolder(Self.product), out: dir))
        XCTAssertEqual(r.status, 0, r.stderr)
        return dir
    }

    func mapArguments(_ scene: String, out: String, extra: [String] = []) -> [String] {
        ["map", scene, "--weights", Self.weights, "--probe", Self.probe, "--out", out, "--quiet"] + extra
    }

    func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// (a) local folder, (b) local USGS-form item → s3://, (c) stactools-form item fetched over http://,
    /// (d) the s3:// prefix, (e) the item on s3://: byte-identical label and expert rasters. The outputs
    /// keep their provenance.
    func testTheFourInputRoutesGiveByteIdenticalMaps() throws {
        let fx = try shared()
        let scene = fx.scene(Self.product)
        let dir = makeTempDirectory("moemae-cloud-routes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let routes: [(String, String)] = [("usgs-item", scene["usgs_item"]!), ("http-item", scene["http_item"]!),
                                          ("s3-prefix", scene["s3_prefix"]!), ("s3-item", scene["s3_item"]!)]
        for (name, input) in routes {
            let r = try fx.moemae(mapArguments(input, out: "\(dir)/\(name)"))
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("warning"), "\(name): \(r.stderr)")
        }
        let local = try localMap(fx)
        for suffix in ["_labels.tif", "_experts.tif"] {
            let reference = bytes("\(local)/\(Self.product)\(suffix)")
            XCTAssertNotNil(reference)
            for (name, _) in routes {
                XCTAssertEqual(bytes("\(dir)/\(name)/\(Self.product)\(suffix)"), reference, "\(name) \(suffix) is byte-identical to the local folder's")
            }
        }
        // Provenance: derived_from the source item, landsat:* and view:* kept; every source URL named.
        let item = try json("\(dir)/usgs-item/\(Self.product).stac.json")
        let links = item["links"] as? [[String: Any]] ?? []
        XCTAssertTrue(links.contains { $0["rel"] as? String == "derived_from" && ($0["href"] as? String)?.hasSuffix("\(Self.product).usgs.json") == true }, "\(links)")
        let props = item["properties"] as? [String: Any] ?? [:]
        XCTAssertEqual(props["landsat:wrs_path"] as? String, "008")
        XCTAssertEqual(props["landsat:correction"] as? String, "L2SP")
        XCTAssertNotNil(props["view:sun_elevation"] as? Double)
        // The kept properties' extensions: the URLs the source item listed (USGS's Landsat v1.1.1, view
        // v1.0.0), not the ones of properties it did not keep (eo, alternate-assets).
        let extensions = item["stac_extensions"] as? [String] ?? []
        XCTAssertTrue(extensions.contains("https://landsat.usgs.gov/stac/landsat-extension/v1.1.1/schema.json"), "\(extensions)")
        XCTAssertTrue(extensions.contains("https://stac-extensions.github.io/view/v1.0.0/schema.json"), "\(extensions)")
        XCTAssertFalse(extensions.contains { $0.contains("/eo/") || $0.contains("alternate-assets") }, "\(extensions)")
        let httpItem = try json("\(dir)/http-item/\(Self.product).stac.json")
        XCTAssertTrue((httpItem["links"] as? [[String: Any]] ?? []).contains { $0["href"] as? String == scene["http_item"]! })
        // The stactools-form source lists the community Landsat extension v2.0.0: its output item validates
        // against the vendored core, projection, classification, view and landsat schemas.
        XCTAssertTrue((httpItem["stac_extensions"] as? [String] ?? []).contains("https://stac-extensions.github.io/landsat/v2.0.0/schema.json"))
        let (valid, report) = try MapCommandTests.capture("/usr/bin/env", ["python3", "\(repositoryRoot)/Tests/PipelineTests/Python/validate_stac_item.py",
                                                                           "\(repositoryRoot)/schemas/stac", "\(dir)/http-item/\(Self.product).stac.json"])
        XCTAssertEqual(valid, 0, report)
        let summary = try json("\(dir)/usgs-item/run-summary.json")
        let sources = ((summary["scenes"] as? [[String: Any]])?.first?["sources"] as? [String]) ?? []
        XCTAssertTrue(sources.contains(scene["usgs_item"]!), "\(sources)")
        for band in (1...7).map({ "SR_B\($0).TIF" }) + ["QA_PIXEL.TIF", "MTL.txt"] {
            XCTAssertTrue(sources.contains("\(scene["s3_prefix"]!)\(Self.product)_\(band)"), "\(band) in \(sources)")
        }
        let prefixSources = ((try json("\(dir)/s3-prefix/run-summary.json")["scenes"] as? [[String: Any]])?.first?["sources"] as? [String]) ?? []
        XCTAssertTrue(prefixSources.allSatisfy { $0.hasPrefix("s3://landsat-cog/") }, "\(prefixSources)")
        // `tile` accepts the same inputs.
        let t = try fx.moemae(["tile", scene["http_item"]!, "--out", "\(dir)/dataset", "--quiet"])
        XCTAssertEqual(t.status, 0, t.stderr)
    }

    /// An item whose datetime is an hour off its MTL's: a warning says so, the MTL wins (same maps).
    func testAnItemDisagreeingWithItsMTLIsWarnedAndTheMTLWins() throws {
        let fx = try shared()
        let dir = makeTempDirectory("moemae-cloud-datetime")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let off = try fx.moemae(mapArguments(fx.faults["datetime-off"]!, out: "\(dir)/off"))
        XCTAssertEqual(off.status, 0, off.stderr)
        XCTAssertTrue(off.stderr.contains("warning:") && off.stderr.contains("differs from the MTL's acquisition time") && off.stderr.contains("wins"), off.stderr)
        XCTAssertEqual(bytes("\(dir)/off/\(Self.product)_labels.tif"), bytes("\(try localMap(fx))/\(Self.product)_labels.tif"))
        XCTAssertEqual(try json("\(dir)/off/\(Self.product).stac.json")["properties"].flatMap { ($0 as? [String: Any])?["datetime"] as? String },
                       "2019-12-01T15:13:51.860Z", "the output item has the MTL's time (milliseconds)")
    }

    /// Missing asset, 404, truncated object: a clear error naming the item or URL and band, exit 1, no
    /// final-named output.
    func testBrokenInputsAreClearErrorsWithoutOutputs() throws {
        let fx = try shared()
        let dir = makeTempDirectory("moemae-cloud-faults")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [(String, [String])] = [
            ("missing-asset", ["missing-asset.json", "has no asset for band SR_B5", "nir08"]),
            ("not-found", ["s3://landsat-cog/collection02/level-2/\(Self.product)/no-such-object_SR_B4.TIF", "band SR_B4", "404"]),
            ("truncated", ["s3://landsat-cog/truncated/\(Self.product)_SR_B4.TIF", "band SR_B4"]),
        ]
        for (name, expected) in cases {
            let out = "\(dir)/\(name)"
            let r = try fx.moemae(mapArguments(fx.faults[name]!, out: out))
            XCTAssertEqual(r.status, 1, "\(name): \(r.stderr)")
            for text in expected { XCTAssertTrue(r.stderr.contains(text), "\(name): '\(text)' in \(r.stderr)") }
            XCTAssertTrue(r.stderr.contains("error: "), r.stderr)
            XCTAssertEqual(finalNamedEntries(out), [], "\(name): no final-named output")
        }
    }

    /// A FeatureCollection with a broken item between two good ones: both good scenes mapped, the broken
    /// one reported (stderr and run-summary.json `failed`), exit status 1.
    func testACollectionWithABrokenItemMapsTheGoodOnesAndFails() throws {
        let fx = try shared()
        let dir = makeTempDirectory("moemae-cloud-collection")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try fx.moemae(mapArguments(fx.faults["collection-with-broken"]!, out: dir + "/out"))
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("feature 2 of 3") || r.stderr.contains("has no asset for band SR_B5"), r.stderr)
        for p in [Self.product, Self.second] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/out/\(p)_labels.tif"), "\(p) mapped: \(r.stderr)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/out/\(p).stac.json"))
        }
        let summary = try json("\(dir)/out/run-summary.json")
        XCTAssertEqual((summary["scenes"] as? [Any])?.count, 2)
        let failed = summary["failed"] as? [[String: Any]] ?? []
        XCTAssertEqual(failed.count, 1)
        XCTAssertTrue((failed.first?["error"] as? String)?.contains("SR_B5") == true, "\(failed)")
    }

    /// `--out s3://…`: every output arrives (STAC Item included) and nothing is left locally; a run killed
    /// mid-scene leaves no final-named object, and `--resume` completes it.
    func testOutputsToS3ArriveCompleteAndAKilledRunResumes() throws {
        let fx = try shared()
        let dir = makeTempDirectory("moemae-cloud-out")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tmp = dir + "/tmp"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let r = try fx.moemae(mapArguments(fx.scene(Self.product)["usgs_item"]!, out: "s3://moemae-out/run1/"), extraEnv: ["TMPDIR": tmp])
        XCTAssertEqual(r.status, 0, r.stderr)
        let objects = try fx.list("moemae-out", prefix: "run1/")
        for name in ["_labels.tif", "_experts.tif", "_experts.vrt", ".stac.json", "_summary.json"].map({ "run1/\(Self.product)\($0)" }) + ["run1/run-summary.json"] {
            XCTAssertTrue(objects.contains(name), "\(name) in \(objects)")
        }
        // The uploaded rasters equal a local run's.
        XCTAssertEqual(try fx.get("moemae-out", "run1/\(Self.product)_labels.tif"), bytes("\(try localMap(fx))/\(Self.product)_labels.tif"))
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: tmp).filter { !$0.hasSuffix("/") && $0.contains(".") }
        XCTAssertEqual(leftovers, [], "local copies are removed after the upload")

        // Killed (SIGKILL) mid-scene: no final-named object; --resume finishes and uploads. A 2× copy
        // (676 tiles) is long enough to be killed mid-scene and keeps the resumed rest short.
        let big = try MapCommandTests.largeScene(Self.product, into: dir + "/big", percent: 200)
        let args = mapArguments(big, out: "s3://moemae-out/run2/", extra: ["--workers", "1", "--batch-size", "16"])
        let run = try fx.start(args, extraEnv: ["TMPDIR": tmp])
        let deadline = Date().addingTimeInterval(120)
        var progress: String?
        while run.isRunning && Date() < deadline && progress == nil {
            progress = FileManager.default.enumerator(atPath: tmp)?.compactMap { $0 as? String }.first { $0.hasSuffix("/progress.json") }
            usleep(20_000)
        }
        XCTAssertNotNil(progress, "the run checkpointed rows before it was killed")
        kill(run.processIdentifier, SIGKILL)
        run.waitUntilExit()
        XCTAssertEqual(try fx.list("moemae-out", prefix: "run2/"), [], "a killed run leaves no final-named object")
        let resumed = try fx.moemae(args + ["--resume"], extraEnv: ["TMPDIR": tmp])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(try fx.list("moemae-out", prefix: "run2/").contains("run2/\(Self.product).stac.json"))
        let summary = try JSONSerialization.jsonObject(with: try fx.get("moemae-out", "run2/\(Self.product)_summary.json")) as? [String: Any]
        XCTAssertGreaterThan(summary?["resumed_rows"] as? Int ?? 0, 0, "rows of the killed run were kept")
        // Without --resume or --overwrite, existing objects are refused before mapping.
        let again = try fx.moemae(args, extraEnv: ["TMPDIR": tmp])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("s3://moemae-out/run2/") && again.stderr.contains("already exists"), again.stderr)
    }

    /// The web server stops mid-run: a clear error naming the URL and band, no final-named output; once it
    /// is back, `--resume` finishes from the checkpointed rows.
    func testAServerStoppedMidRunIsAClearErrorAndResumeFinishes() throws {
        let fx = try shared()
        let dir = makeTempDirectory("moemae-cloud-stop")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/out"
        let args = mapArguments(fx.bigHTTPItem, out: out, extra: ["--workers", "1", "--batch-size", "16"])
        let run = try fx.start(args)
        let deadline = Date().addingTimeInterval(120)
        while run.isRunning && Date() < deadline && !FileManager.default.fileExists(atPath: "\(out)/.moemae-partial-\(Self.product)/progress.json") {
            usleep(20_000)
        }
        try fx.command("stop-http")
        run.waitUntilExit()
        let stderr = fx.stderr(of: run)
        try fx.command("start-http")
        XCTAssertEqual(run.terminationStatus, 1, stderr)
        XCTAssertTrue(stderr.contains("error: \(fx.info["http"] as! String)/big/"), stderr)
        XCTAssertTrue(stderr.contains("band "), stderr)
        XCTAssertEqual(finalNamedEntries(out), [], "no final-named output")
        let resumed = try fx.moemae(args + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/\(Self.product)_labels.tif"))
        let summary = try json("\(out)/\(Self.product)_summary.json")
        XCTAssertGreaterThan(summary["resumed_rows"] as? Int ?? 0, 0, resumed.stderr)
    }

    /// HTTP 403 from S3 without AWS_REQUEST_PAYER: the message names the missing setting.
    func testAccessDeniedNamesTheRequesterPaysSetting() throws {
        let fx = try shared()
        try fx.command("auth-on")
        defer { try? fx.command("auth-off") }
        let dir = makeTempDirectory("moemae-cloud-403")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let auth = fx.info["auth"] as? [String: String] ?? [:]
        let r = try fx.moemae(mapArguments(fx.scene(Self.product)["s3_prefix"]!, out: dir + "/out"), extraEnv: auth)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("403") && r.stderr.contains("AWS_REQUEST_PAYER is not set"), r.stderr)
        XCTAssertTrue(r.stderr.contains("s3://landsat-cog/collection02/level-2/\(Self.product)"), r.stderr)
        var withPayer = auth
        withPayer["AWS_REQUEST_PAYER"] = "requester"
        let p = try fx.moemae(mapArguments(fx.scene(Self.product)["usgs_item"]!, out: dir + "/out2"), extraEnv: withPayer)
        XCTAssertEqual(p.status, 1, p.stderr)
        XCTAssertTrue(p.stderr.contains("403") && !p.stderr.contains("AWS_REQUEST_PAYER is not set"), p.stderr)
        XCTAssertEqual(finalNamedEntries(dir + "/out"), [])
    }

    func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
    }
}

/// Python/cloud_fixture.py as a child process: a moto S3 server and an HTTP server on 127.0.0.1 with the
/// scenes as COGs and their STAC Items; stopped by ``stop()``.
final class CloudFixture: @unchecked Sendable {
    let process = Process()
    let input = Pipe(), output = Pipe()
    let work: String
    var info: [String: Any] = [:]
    var env: [String: String] = [:]
    private var stderrFiles: [Int32: String] = [:]

    init(products: [String]) throws {
        guard moemaeBinary != nil else { throw XCTSkip("moemae binary not built next to the tests") }
        work = makeTempDirectory("moemae-cloud-fixture")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "\(repositoryRoot)/Tests/EndToEndTests/Python/cloud_fixture.py", work] + products
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let line = readLine()
        guard let data = line.data(using: .utf8), let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            process.terminate()
            throw NSError(domain: "cloud_fixture.py did not start (is moto[server] installed? scripts/setup.sh): \(line)", code: 1)
        }
        info = o
        env = o["env"] as? [String: String] ?? [:]
    }

    /// One line of the fixture's stdout.
    func readLine() -> String {
        var bytes = Data()
        let h = output.fileHandleForReading
        while true {
            let b = h.readData(ofLength: 1)
            if b.isEmpty || b[0] == 10 { break }
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Sends a command (`stop-http`, `start-http`) and waits for `ok`.
    func command(_ c: String) throws {
        input.fileHandleForWriting.write(Data((c + "\n").utf8))
        let reply = readLine()
        guard reply == "ok" else { throw NSError(domain: "cloud_fixture.py: \(c) → \(reply)", code: 1) }
    }

    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: work)
    }

    func scene(_ product: String) -> [String: String] {
        ((info["scenes"] as? [String: Any])?[product] as? [String: String]) ?? [:]
    }
    var faults: [String: String] { info["faults"] as? [String: String] ?? [:] }
    var bigHTTPItem: String { info["big_http_item"] as? String ?? "" }

    func environment(_ extra: [String: String]) -> [String: String] {
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        for (k, v) in extra { e[k] = v }
        return e
    }

    /// Runs moemae with the fixture's GDAL/AWS environment and waits.
    func moemae(_ args: [String], extraEnv: [String: String] = [:]) throws -> (status: Int32, stderr: String) {
        let p = try start(args, extraEnv: extraEnv)
        p.waitUntilExit()
        return (p.terminationStatus, stderr(of: p))
    }

    /// Starts moemae (stdout discarded, stderr to a file read by ``stderr(of:)``).
    func start(_ args: [String], extraEnv: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: moemaeBinary!)
        p.arguments = args
        p.environment = environment(extraEnv)
        let errFile = work + "/stderr-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: errFile, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: errFile)
        try p.run()
        stderrFiles[p.processIdentifier] = errFile
        return p
    }

    func stderr(of p: Process) -> String {
        stderrFiles[p.processIdentifier].flatMap { FileManager.default.contents(atPath: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Keys under `prefix` in `bucket`, through GDAL (`gdal_ls.py` is not installed everywhere: python boto3).
    func list(_ bucket: String, prefix: String) throws -> [String] {
        let script = """
        import boto3, sys
        s3 = boto3.client("s3", endpoint_url="http://" + sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        for o in s3.list_objects_v2(Bucket=sys.argv[2], Prefix=sys.argv[3]).get("Contents", []): print(o["Key"])
        """
        return try runPython(script, [info["s3_endpoint"] as! String, bucket, prefix]).split(separator: "\n").map(String.init)
    }

    /// The bytes of an object.
    func get(_ bucket: String, _ key: String) throws -> Data {
        let file = work + "/get-\(UUID().uuidString)"
        let script = """
        import boto3, sys
        s3 = boto3.client("s3", endpoint_url="http://" + sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        s3.download_file(sys.argv[2], sys.argv[3], sys.argv[4])
        """
        _ = try runPython(script, [info["s3_endpoint"] as! String, bucket, key, file])
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try Data(contentsOf: URL(fileURLWithPath: file))
    }
}
