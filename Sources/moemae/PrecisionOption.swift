import ArgumentParser
import MoEMAE

extension Precision: ExpressibleByArgument {}

/// `--precision` of `map`, `embed` and `bench encoder` (pipeline files: the `precision` field).
struct PrecisionOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Number format of the encoder's matrix products: fp32, or bf16 (bfloat16 weights and activations with FP32 accumulation, needs a CPU with AVX512_BF16; on other CPUs the command stops and says what the CPU lacks).",
        valueName: "fp32|bf16"))
    var precision: Precision = .fp32
}
