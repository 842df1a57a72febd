import Foundation
import XCTest

/// The array contract with outputs on object storage (docs/scaling.md): a real S3 API on 127.0.0.1
/// (moto's server, Tests/PipelineTests/Python/s3_server.py), N local `moemae map --manifest` processes
/// started as Kubernetes Indexed Job pods (`JOB_COMPLETION_INDEX`) writing to `s3://`, claims on the
/// bucket, and `moemae gather` reading the Items from the bucket and writing its catalogue there.
final class ClusterObjectStorageTests: ClusterTestCase {
    /// The local S3 server (``LocalS3Server``), its settings set in this process's environment (the
    /// moemae processes the test starts inherit them) and removed by ``stop()``; skips the test when
    /// the server cannot start.
    final class S3Server {
        let server: LocalS3Server
        var environment: [String: String] { server.environment }

        init(buckets: [String]) throws {
            do { server = try LocalS3Server(buckets: buckets) } catch let e as LocalS3Server.NotStarted {
                throw XCTSkip("the local S3 server did not start (moto[server] is installed by scripts/setup.sh): \(e)")
            }
            server.configureThisProcess()
        }

        func stop() { server.stop() }

        /// Every object under `prefix` of `bucket`, downloaded into `folder` (boto3, outside moemae).
        func download(bucket: String, prefix: String, to folder: String) throws -> [String] {
            let listed = try runPython("""
            import boto3, os, sys
            s3 = boto3.client("s3", endpoint_url="http://" + os.environ["AWS_S3_ENDPOINT"], region_name="us-east-1")
            bucket, prefix, folder = sys.argv[1], sys.argv[2].rstrip("/") + "/", sys.argv[3]
            os.makedirs(folder, exist_ok=True)
            keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix) for o in page.get("Contents", [])]
            for k in keys:
                path = os.path.join(folder, k[len(prefix):])
                os.makedirs(os.path.dirname(path), exist_ok=True)
                s3.download_file(bucket, k, path)
            print("\\n".join(k[len(prefix):] for k in keys))
            """, [bucket, prefix, folder])
            return listed.split(separator: "\n").map(String.init)
        }
    }

    /// Three manifest lines (two real scenes and a copy) in three shards: shards 0 and 1 run at once as
    /// Kubernetes pods writing to s3://; gather from the bucket lists exactly shard 2's line missing;
    /// shard 2 completes the set; the objects are byte-identical to a single-process map into a folder,
    /// every scene was published once, no claim object is left, the Collection validates, and the
    /// mosaics and catalogue are in the bucket.
    func testShardedMapWritesToS3AndGatherReadsTheBucket() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let s3 = try S3Server(buckets: ["moemae-maps"])
        defer { s3.stop() }
        let copy = try copyScene(Self.real[0], day: 4)
        let plan = try moemae(["plan", sceneFolder(Self.real[0]), sceneFolder(Self.real[1]), copy, "--out", dir + "/manifest.jsonl"])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        let ids = try manifestIDs()
        XCTAssertEqual(ids.count, 3)

        let single = try moemae(mapArgs(dir + "/single"))
        XCTAssertEqual(single.status, 0, single.stderr)

        let prefix = "run-\(UUID().uuidString.prefix(8))"
        let url = "s3://moemae-maps/\(prefix)"
        func pod(_ index: Int) throws -> (Process, Pipe) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = mapArgs(url) + ["--shard-count", "3"]
            var environment = ProcessInfo.processInfo.environment
            for key in ["SLURM_ARRAY_TASK_ID", "AWS_BATCH_JOB_ARRAY_INDEX"] { environment[key] = nil }
            environment["JOB_COMPLETION_INDEX"] = "\(index)"
            environment["TMPDIR"] = dir   // the local folders where scenes are completed before upload
            p.environment = environment
            let err = Pipe()
            p.standardError = err; p.standardOutput = FileHandle.nullDevice
            try p.run()
            return (p, err)
        }
        let pods = try [pod(0), pod(1)]
        for (p, err) in pods {
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, text)
        }

        // Equal scenes: the balanced split is round-robin, so line 2 is shard 2's and missing.
        var g = try moemae(["gather", url, "--manifest", dir + "/manifest.jsonl"])
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertTrue(g.stdout.contains("\(url)/collection.json: 2 of 3 manifest scenes"), g.stdout)
        XCTAssertTrue(g.stdout.contains("missing: 1 lines: 2"), g.stdout)

        let (last, err) = try pod(2)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        last.waitUntilExit()
        XCTAssertEqual(last.terminationStatus, 0, text)
        g = try moemae(["gather", url, "--manifest", dir + "/manifest.jsonl"])
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertTrue(g.stdout.contains("missing: none"), g.stdout)

        let bucket = dir + "/bucket"
        let keys = try s3.download(bucket: "moemae-maps", prefix: prefix, to: bucket)
        XCTAssertEqual(try rasterHashes(bucket), try rasterHashes(dir + "/single"), "same bytes as one process into a folder")
        XCTAssertEqual(try mappedCounts(bucket), Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }), "each scene published once")
        XCTAssertEqual(Set(keys.filter { $0.hasPrefix("run-summary-") }), ["run-summary-0-of-3.json", "run-summary-1-of-3.json", "run-summary-2-of-3.json"])
        XCTAssertFalse(keys.contains { $0.hasPrefix(".moemae-claims/") }, "claims released: \(keys)")
        XCTAssertFalse(keys.contains { $0.contains(".moemae-partial") }, "no staging objects: \(keys)")
        XCTAssertEqual(try validateCollection(bucket + "/collection.json"), "ok 3 items")
        XCTAssertTrue(keys.contains("missing.json"))
        let vrts = keys.filter { $0.hasPrefix("mosaic-labels-EPSG-") && $0.hasSuffix(".vrt") }
        XCTAssertEqual(vrts.count, 2, "two CRSs: \(keys)")
        // The VRTs refer to the scenes in place, and GDAL reads them from the bucket.
        let vrt = try String(contentsOfFile: bucket + "/" + vrts[0], encoding: .utf8)
        XCTAssertTrue(vrt.contains("/vsis3/moemae-maps/\(prefix)/"), vrt)
        let info = try runTool("gdalinfo", ["-mm", "/vsis3/moemae-maps/\(prefix)/\(vrts[0])"])
        XCTAssertTrue(info.contains("Color Table") && info.contains("Computed Min/Max"), info)
    }
}
