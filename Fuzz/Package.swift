// swift-tools-version:6.0
// libFuzzer targets for every parser of untrusted input (docs/reliability.md). A separate package
// that depends on moemae by path, so the main build carries no sanitizer or fuzzer flags.
// Build: swift build -c release --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address
// (the -Xswiftc copy is what instruments the Swift code for coverage). Run: ../scripts/fuzz.sh.
import Foundation
import PackageDescription

/// The moemae package's identity is the name of the folder holding it (a path dependency).
let moemae = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

/// One executable per parser: `fuzz-<name>`, whose only source defines `LLVMFuzzerTestOneInput` and
/// calls the matching function of moemae's `FuzzTargets` module.
let fuzzers = [
    "mtl-odl", "mtl-json", "mtl-xml", "safetensors", "checkpoint", "npz", "bigearthnet-labels",
    "pipeline-yaml", "dataset-manifest", "resume-state", "geotiff-band", "stac-item",
]

let package = Package(
    name: "moemae-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: "..")],
    targets: fuzzers.map {
        .executableTarget(name: "fuzz-\($0)", dependencies: [.product(name: "FuzzTargets", package: moemae)],
                          path: "Sources/fuzz-\($0)")
    },
    swiftLanguageModes: [.v5]
)
