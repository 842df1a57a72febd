import Foundation

/// A real S3 API on 127.0.0.1 (moto's server, `Tests/PipelineTests/Python/s3_server.py`) as a child
/// process, with the given buckets. ``environment`` holds the settings that point GDAL's `/vsis3/` (and
/// boto3) at it; ``configureThisProcess()`` sets them in this process (processes it starts inherit them),
/// ``stop()`` ends the server and removes them. Shared by the object-store claim tests and the cluster
/// tests on object storage.
public final class LocalS3Server: @unchecked Sendable {
    /// The server did not start (moto[server] is installed by scripts/setup.sh); says what it printed.
    public struct NotStarted: Error, CustomStringConvertible {
        public let description: String
    }

    let process = Process()
    let input = Pipe()
    public let environment: [String: String]

    public init(buckets: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "\(repositoryRoot)/Tests/PipelineTests/Python/s3_server.py"] + buckets
        let out = Pipe()
        process.standardInput = input; process.standardOutput = out; process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data([0x0A]) { break }
            line.append(byte)
        }
        guard let o = try? JSONSerialization.jsonObject(with: line) as? [String: Any], let env = o["env"] as? [String: String] else {
            process.terminate()
            throw NotStarted(description: "s3_server.py did not start (is moto[server] installed? scripts/setup.sh): \(String(decoding: line, as: UTF8.self))")
        }
        environment = env
    }

    /// Points this process's GDAL (and the processes it starts) at the server.
    public func configureThisProcess() { for (k, v) in environment { setenv(k, v, 1) } }

    /// Ends the server (it exits when its standard input closes) and removes its settings.
    public func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        for k in environment.keys { unsetenv(k) }
    }
}
