import FuzzTargets

/// libFuzzer entry point: one input through `FuzzTargets.npz` (docs/reliability.md).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTargets.npz(FuzzInput(data, size))
    return 0
}
