// swift-tools-version:6.0
// A downstream package that uses moemae's library products through a path dependency, as another
// project would: built by scripts/test.sh to prove the products are consumable (docs/architecture.md).
import Foundation
import PackageDescription

// This folder is <repository>/Examples/Downstream. SwiftPM names a path dependency after its folder,
// which is whatever the clone is called, so the name is read off the path instead of written down.
let repository = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()
let moemae = repository.lastPathComponent

let package = Package(
    name: "Downstream",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: repository.path)],
    targets: [
        .executableTarget(name: "downstream", dependencies: [
            .product(name: "MoEMAE", package: moemae),
            .product(name: "Tiling", package: moemae),
            .product(name: "Diagnostics", package: moemae),
        ]),
    ]
)
