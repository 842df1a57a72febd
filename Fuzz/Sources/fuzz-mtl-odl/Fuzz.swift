import FuzzTargets

/// libFuzzer entry point: one input through `FuzzTargets.mtlOdl` (docs/reliability.md).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTargets.mtlOdl(FuzzInput(data, size))
    return 0
}
