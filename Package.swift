// swift-tools-version:6.0
// moemae: Landsat scenes → 40×40 tiles → MoE-MAE embeddings → land-cover and expert maps.
import PackageDescription

/// Numeric code is compiled with full optimisation even in debug builds of dependants is not
/// possible in SwiftPM; numeric tests are run with `swift test -c release` instead (scripts/test.sh).
let package = Package(
    name: "moemae",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "moemae", targets: ["moemae"]),
        .library(name: "Diagnostics", targets: ["Diagnostics"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "GeoRaster", targets: ["GeoRaster"]),
        .library(name: "Landsat", targets: ["Landsat"]),
        .library(name: "Tiling", targets: ["Tiling"]),
        .library(name: "MoEMAE", targets: ["MoEMAE"]),
        .library(name: "MoEMAETraining", targets: ["MoEMAETraining"]),
        .library(name: "CheckpointImport", targets: ["CheckpointImport"]),
        .library(name: "Probe", targets: ["Probe"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        // One function per parser of untrusted input, for the libFuzzer executables in Fuzz/ (docs/reliability.md).
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    ],
    targets: [
        // C shims: a module map and one header each, nothing else.
        .systemLibrary(name: "CGDAL", pkgConfig: "gdal", providers: [.apt(["libgdal-dev"])]),
        .systemLibrary(name: "CPROJ", pkgConfig: "proj", providers: [.apt(["libproj-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // The SIGINT/SIGTERM handler, in C because it must be async-signal-safe (one .c file and its header).
        .target(name: "CSignals"),

        // Hand-vectorised attention/softmax/SiLU kernels (AVX2+FMA chosen at run time, portable C otherwise).
        .target(name: "CKernels"),

        // The error model every module shares (kind, file, message, hint, cause), the existing-output
        // refusal and atomic publication (temporary name, fsync, rename). No dependencies.
        .target(name: "Diagnostics"),
        // The safetensors file format, shared by datasets, weights, embeddings and probes.
        .target(name: "SafeTensors", dependencies: ["Diagnostics"]),
        // Content fingerprints (SHA-256 of weights, probes, scenes and resume keys; SHA-1 for probe splits)
        // through OpenSSL's libcrypto.
        .target(name: "ContentDigest", dependencies: ["CLibCrypto"]),
        // The only module that imports GDAL and PROJ.
        .target(name: "GeoRaster", dependencies: ["CGDAL", "CPROJ", "Diagnostics"]),
        // MTL metadata (ODL text, JSON, XML through libxml2), scene discovery, band sets, QA bits.
        .target(name: "Landsat", dependencies: ["CLibXML2", "Diagnostics"]),
        // Tile grid, edge policy, validity, geo-temporal metadata, dataset writer/reader.
        .target(name: "Tiling", dependencies: ["Diagnostics", "GeoRaster", "Landsat", "SafeTensors"]),
        // Inference: model configuration, weights, kernels over BLAS (the only BLAS caller), encoder/decoder.
        .target(name: "MoEMAE", dependencies: [
            "COpenBLAS", "CKernels", "Diagnostics", "Landsat", "SafeTensors",
        ], swiftSettings: [
            // The numeric loops index raw buffers whose bounds are set up once per batch; without
            // overflow/bounds checks LLVM vectorises them (docs/performance.md, "Encoder").
            .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
        ]),
        // Pretraining: backward passes, AdamW, schedules, the pretraining loop and its checkpoints. Its own
        // target so inference users do not build it; the gradient kernels index raw buffers like the
        // encoder's and keep -Ounchecked (docs/performance.md, "Compiler flags").
        .target(name: "MoEMAETraining", dependencies: ["MoEMAE", "CKernels", "SafeTensors"], swiftSettings: [
            .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
        ]),
        // `moemae bench` and MoEMAEBenchmarks: encoder and training-step benchmarks (not in the libraries).
        .target(name: "MoEMAEBenchmarking", dependencies: ["MoEMAE", "MoEMAETraining"]),
        // The `torch.save` checkpoint importer (zip container, pickle reader, tensor inventory): it parses
        // untrusted files, so it keeps Swift's bounds and overflow checks (no -Ounchecked; docs/reliability.md).
        .target(name: "CheckpointImport", dependencies: [
            "Diagnostics", "SafeTensors", "MoEMAE",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // Linear heads: fit, predict, metrics, label sources.
        .target(name: "Probe", dependencies: [
            "ContentDigest", "Diagnostics", "SafeTensors", "GeoRaster", "Landsat", "Tiling", "MoEMAE",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),  // `probe import` reads .npz archives
        ]),
        // Bounded Dispatch stages read → tile → batch → encode → classify → write; map outputs.
        .target(name: "Pipeline", dependencies: [
            "CSignals", "Diagnostics", "GeoRaster", "Landsat", "SafeTensors", "Tiling", "MoEMAE", "MoEMAETraining", "Probe",
            "ContentDigest",
            .product(name: "Yams", package: "Yams"),
        ]),
        // The command line only: parses, calls the libraries, prints.
        .executableTarget(name: "moemae", dependencies: [
            "Diagnostics", "SafeTensors", "Tiling", "MoEMAE", "CheckpointImport", "MoEMAETraining", "MoEMAEBenchmarking", "Probe", "Pipeline",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Every parser of untrusted input behind one call each, fuzzed by Fuzz/ and replayed by FuzzRegressionTests.
        .target(name: "FuzzTargets", dependencies: [
            "SafeTensors", "GeoRaster", "Landsat", "Tiling", "CheckpointImport", "Probe", "Pipeline",
        ]),
        // `swift run -c release MoEMAEBenchmarks`: the same benchmarks as `moemae bench`.
        .executableTarget(name: "MoEMAEBenchmarks", dependencies: ["MoEMAE", "MoEMAEBenchmarking", "Tiling", "Probe"]),

        // Helpers shared by test targets: shared-data paths, temporary folders, GDAL tools and Python as references.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "DiagnosticsTests", dependencies: ["Diagnostics"]),
        .testTarget(name: "ContentDigestTests", dependencies: ["ContentDigest"]),
        .testTarget(name: "GeoRasterTests", dependencies: ["GeoRaster", "TestSupport"]),
        .testTarget(name: "LandsatTests", dependencies: ["Landsat"]),
        .testTarget(name: "TilingTests", dependencies: ["Tiling", "GeoRaster", "Landsat", "SafeTensors", "Diagnostics", "TestSupport"]),
        .testTarget(name: "MoEMAETests", dependencies: ["MoEMAE", "MoEMAETraining", "CKernels", "Landsat", "SafeTensors"]),
        .testTarget(name: "CheckpointImportTests", dependencies: [
            "CheckpointImport", "MoEMAE", "MoEMAETraining", "SafeTensors",
            // Hostile-checkpoint tests assemble their own zip containers.
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        .testTarget(name: "ProbeTests", dependencies: ["Probe", "SafeTensors", "GeoRaster", "Landsat", "Tiling"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "GeoRaster", "Landsat", "MoEMAE", "MoEMAETraining", "Probe", "SafeTensors", "Tiling", "Diagnostics", "TestSupport"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"]),
        .testTarget(name: "EndToEndTests", dependencies: ["SafeTensors", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
