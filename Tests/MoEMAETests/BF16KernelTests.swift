import CKernels
import Foundation
import SafeTensors
import XCTest
@testable import MoEMAE

/// The bfloat16 matrix products (`Sources/CKernels/bf16_gemm.c`) and `Precision.bf16`.
///
/// The numbers are checked through the portable kernel, which performs the VDPBF16PS lane arithmetic in
/// the same order; the AVX-512 kernel is compared with it bit for bit where the CPU has the instruction
/// (the Zen 4 project machine; on a CPU without AVX512_BF16 those tests are skipped, saying so).
final class BF16KernelTests: XCTestCase {
    /// Deterministic values in [-1, 1) with a spread of magnitudes.
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { i in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            let u = Float(s >> 40) / Float(1 << 24) * 2 - 1
            return i % 7 == 0 ? u * 37 : u
        }
    }

    func bf16(_ x: Float) -> Float {
        var h: UInt16 = 0, y: Float = 0
        var v = x
        moemae_bf16_round(&v, &h, 1)
        moemae_bf16_widen(&h, &y, 1)
        return y
    }

    func testRoundingToNearestEven() {
        XCTAssertEqual(bf16(1), 1)
        XCTAssertEqual(bf16(1 + 0x1p-8), 1, "halfway between 1 and 1+2^-7: to the even one")
        XCTAssertEqual(bf16(1 + 3 * 0x1p-8), 1 + 0x1p-6, "halfway between 1+2^-7 and 1+2^-6: to the even one")
        XCTAssertEqual(bf16(1 + 0x1p-8 + 0x1p-20), 1 + 0x1p-7, "above halfway rounds up")
        XCTAssertEqual(bf16(-2.7182817), -2.71875)
        XCTAssertEqual(bf16(Float.leastNonzeroMagnitude), 0, "denormals become zero (as VCVTNEPS2BF16)")
        XCTAssertEqual(bf16(-Float.leastNormalMagnitude / 2).sign, .minus)
        XCTAssertEqual(bf16(.infinity), .infinity)
        XCTAssertEqual(bf16(.greatestFiniteMagnitude), .infinity, "rounds past the largest bf16")
        XCTAssertTrue(bf16(.nan).isNaN)
    }

    /// C[i, j] = bias[j] + Σ pairs in VDPBF16PS order, written out in Swift.
    func reference(a: [Float], m: Int, k: Int, w: [Float], n: Int, bias: [Float]) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc = bias[j]
                for p in stride(from: 0, to: k, by: 2) {
                    let hiA: Float = p + 1 < k ? bf16(a[i * k + p + 1]) : 0, hiW: Float = p + 1 < k ? bf16(w[j * k + p + 1]) : 0
                    acc = acc + hiA * hiW
                    acc = acc + bf16(a[i * k + p]) * bf16(w[j * k + p])
                }
                c[i * n + j] = acc
            }
        }
        return c
    }

    func gemm(_ kernel: BF16Kernel, a: [Float], m: Int, k: Int, w: [Float], n: Int, bias: [Float], lda: Int? = nil) -> [Float] {
        let lda = lda ?? k
        var padded = [Float](repeating: .nan, count: m * lda)  // columns past k must not be read
        for i in 0..<m { for p in 0..<k { padded[i * lda + p] = a[i * k + p] } }
        let layer = Linear(inFeatures: k, outFeatures: n, weight: w, bias: bias).withBF16(kernel)
        let ldc = n + 3
        var c = [Float](repeating: -7, count: m * ldc)
        padded.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { layer.forward(ap.baseAddress!, ldx: lda, rows: m, into: $0.baseAddress!, ldy: ldc) }
        }
        for i in 0..<m { for j in n..<ldc { XCTAssertEqual(c[i * ldc + j], -7, "wrote past column n") } }
        return (0..<(m * n)).map { c[($0 / n) * ldc + $0 % n] }
    }

    /// The portable kernel equals the bf16 arithmetic written out, bit for bit, for odd and even sizes
    /// (k odd: a zero pair half; n not a multiple of 16; m not a multiple of the 4-row block).
    func testPortableKernelIsExactlyTheBF16Arithmetic() {
        for (m, n, k) in [(1, 1, 1), (3, 15, 2), (5, 17, 3), (4, 16, 144), (7, 33, 143), (9, 70, 145), (13, 112, 57)] {
            let a = values(m * k, seed: UInt64(m * 1000 + k)), w = values(n * k, seed: UInt64(n * 77 + k)).map { $0 * 0.1 }
            let bias = values(n, seed: 5)
            let got = gemm(.portable, a: a, m: m, k: k, w: w, n: n, bias: bias, lda: k + 5)
            let want = reference(a: a, m: m, k: k, w: w, n: n, bias: bias)
            XCTAssertEqual(got, want, "m \(m) n \(n) k \(k)")
        }
    }

    /// Against FP32: the error is the bf16 rounding of both operands (relative 2^-9 each), accumulated.
    func testPortableKernelAgainstFP32() {
        let m = 37, n = 61, k = 145
        let a = values(m * k, seed: 11), w = values(n * k, seed: 12).map { $0 * 0.05 }, bias = values(n, seed: 13)
        let got = gemm(.portable, a: a, m: m, k: k, w: w, n: n, bias: bias)
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var exact = Double(bias[j]), scale = abs(Double(bias[j]))
                for p in 0..<k { exact += Double(a[i * k + p]) * Double(w[j * k + p]); scale += abs(Double(a[i * k + p]) * Double(w[j * k + p])) }
                worst = max(worst, abs(Double(got[i * n + j]) - exact) / scale)
            }
        }
        print("bf16 GEMM vs exact: worst |Δ| / Σ|a·w| = \(worst)")
        XCTAssertGreaterThan(worst, 0, "bf16 must differ from FP32 somewhere")
        XCTAssertLessThan(worst, 2 * 0x1p-8)
    }

    /// The AVX512_BF16 kernel gives the portable kernel's numbers bit for bit (only where the CPU has it):
    /// every tile shape of the native kernel (8-row groups and their 1–7-row remainders, chunks of 48 rows,
    /// panels of 3, 2 and 1 column blocks, partial last blocks), k with a 32-value conversion tail (odd or
    /// even) and k past the kernel's stack scratch (heap path), strided A and C.
    func testNativeKernelMatchesPortable() throws {
        let cpu = CPUFeatures.current
        guard cpu.hasBF16Kernel else {
            throw XCTSkip("this CPU lacks \(cpu.missingForBF16.joined(separator: ", ")): the AVX512_BF16 kernel cannot run here")
        }
        for (m, n, k) in [(1, 1, 1), (5, 17, 3), (9, 70, 145), (64, 432, 144), (130, 144, 288), (8, 48, 32), (7, 32, 33),
                          (49, 149, 144), (97, 40, 72), (15, 16, 31), (50, 33, 112), (3, 5, 701), (105, 288, 144)] {
            let a = values(m * k, seed: 3), w = values(n * k, seed: 4).map { $0 * 0.1 }, bias = values(n, seed: 6)
            let native = gemm(.avx512bf16, a: a, m: m, k: k, w: w, n: n, bias: bias, lda: k + 3)
            let portable = gemm(.portable, a: a, m: m, k: k, w: w, n: n, bias: bias, lda: k + 3)
            XCTAssertEqual(native.map(\.bitPattern), portable.map(\.bitPattern), "m \(m) n \(n) k \(k)")
        }
    }

    /// The native kernel's vectorised FP32 → bf16 conversion (VCVTNE2PS2BF16) rounds as the portable one:
    /// ties to even, denormals to signed zero, the largest values (results compared bit for bit; NaN and
    /// infinities are left out: times the zero weights they make NaN whose payload depends on operand order).
    func testNativeConversionOfSpecialValues() throws {
        guard CPUFeatures.current.hasBF16Kernel else { throw XCTSkip("no AVX512_BF16 on this CPU") }
        let specials: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, -(1 + 0x1p-8 + 0x1p-20), Float.leastNonzeroMagnitude,
                                 -Float.leastNormalMagnitude / 2, 0, -0.0, Float.leastNormalMagnitude, 3.0e38, -1.5e38,
                                 0x1p-126 * (1 + 0x1p-8)]
        let k = 37, n = 3
        for shift in 0..<k {
            var a = [Float](repeating: 0.5, count: k)
            for (i, v) in specials.enumerated() { a[(shift + i) % k] = v }
            for j in 0..<n {   // one-hot weights: C[j] = bias + bf16(a[j]) · 1 (+ zeros), so the conversion shows through
                var w = [Float](repeating: 0, count: n * k)
                w[j * k + (shift + j) % k] = 1
                let native = gemm(.avx512bf16, a: a, m: 1, k: k, w: w, n: n, bias: [0, 0, 0])
                let portable = gemm(.portable, a: a, m: 1, k: k, w: w, n: n, bias: [0, 0, 0])
                XCTAssertEqual(native[j].bitPattern, portable[j].bitPattern, "value \(a[(shift + j) % k])")
            }
        }
    }

    /// A gathered product (the experts' routed tokens, rows picked by index while converting to bf16) equals
    /// the product of the rows copied first, bit for bit, for both kernels (native only where the CPU has it).
    func testGatheredRowsEqualCopiedRows() {
        let k = 145, n = 37, source = 61
        let x = values(source * k, seed: 21), w = values(n * k, seed: 22).map { $0 * 0.1 }, bias = values(n, seed: 23)
        let rows: [Int32] = (0..<53).map { Int32(($0 * 29 + 7) % source) }   // repeats and any order
        var kernels: [BF16Kernel] = [.portable]
        if CPUFeatures.current.hasBF16Kernel { kernels.append(.avx512bf16) }
        for kernel in kernels {
            let layer = Linear(inFeatures: k, outFeatures: n, weight: w, bias: bias).withBF16(kernel)
            var gathered = [Float](repeating: 0, count: rows.count * n)
            x.withUnsafeBufferPointer { xp in rows.withUnsafeBufferPointer { rp in gathered.withUnsafeMutableBufferPointer {
                layer.forwardGathered(xp.baseAddress!, ldx: k, rows: rp.baseAddress!, count: rows.count, into: $0.baseAddress!, ldy: n)
            }}}
            let copied = rows.flatMap { x[(Int($0) * k)..<(Int($0) * k + k)] }
            XCTAssertEqual(gathered.map(\.bitPattern), gemm(kernel, a: copied, m: rows.count, k: k, w: w, n: n, bias: bias).map(\.bitPattern),
                           "\(kernel)")
        }
    }

    /// The kernels this CPU can run (the native one only where it has AVX512_BF16).
    var kernelsHere: [BF16Kernel] { CPUFeatures.current.hasBF16Kernel ? [.portable, .avx512bf16] : [.portable] }

    /// Rows rounded to bf16 (row stride `ld`, even; the pad column of an odd k stays 0), as the LayerNorm writes them.
    func bf16Rows(_ x: [Float], rows: Int, k: Int, ld: Int, kernel: BF16Kernel) -> [UInt16] {
        var y = [UInt16](repeating: 0, count: rows * ld)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
            BLAS.bf16Round(rows: rows, n: k, x: xp.baseAddress!, ldx: k, y: $0.baseAddress!, ldy: ld, kernel: kernel)
        }}
        return y
    }

    /// A product whose input is already bf16 (read in place, or gathered by copying pairs) and whose
    /// accumulators start from the bias equals the FP32-input product on C filled with the bias, bit for
    /// bit, for both kernels; so does the residual form (accumulators from C + bias against the bias added
    /// to C first), and the vectorised row conversion against the portable one.
    func testBF16InputAndBiasStartEqualTheConversionPath() {
        for (m, n, k) in [(1, 1, 1), (53, 37, 145), (97, 149, 144), (9, 16, 33)] {
            let x = values(m * k, seed: UInt64(k)), w = values(n * k, seed: 31).map { $0 * 0.1 }, bias = values(n, seed: 32)
            let ld = (k + 1) & ~1
            let rows: [Int32] = (0..<m).map { Int32(($0 * 7 + 3) % m) }
            let portableRows = bf16Rows(x, rows: m, k: k, ld: ld, kernel: .portable)
            for kernel in kernelsHere {
                let xb = bf16Rows(x, rows: m, k: k, ld: ld, kernel: kernel)
                XCTAssertEqual(xb, portableRows, "row conversion \(kernel)")
                let layer = Linear(inFeatures: k, outFeatures: n, weight: w, bias: bias).withBF16(kernel)
                let want = gemm(kernel, a: x, m: m, k: k, w: w, n: n, bias: bias)   // bias filled, FP32 input
                var got = [Float](repeating: -7, count: m * n)
                xb.withUnsafeBufferPointer { xp in got.withUnsafeMutableBufferPointer {
                    layer.forward(bf16: xp.baseAddress!, ldx: ld, rows: m, into: $0.baseAddress!, ldy: n)
                }}
                XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "bf16 input m \(m) n \(n) k \(k) \(kernel)")
                var gathered = [Float](repeating: -7, count: m * n)
                xb.withUnsafeBufferPointer { xp in rows.withUnsafeBufferPointer { rp in bias.withUnsafeBufferPointer { bp in
                    gathered.withUnsafeMutableBufferPointer {
                        BLAS.bf16GEMM(m: m, bf16: xp.baseAddress!, lda: ld, rows: rp.baseAddress!, w: layer.bf16!, bias: bp.baseAddress!,
                                      c: $0.baseAddress!, ldc: n)
                    }
                }}}
                let copied = rows.flatMap { x[(Int($0) * k)..<(Int($0) * k + k)] }
                XCTAssertEqual(gathered.map(\.bitPattern), gemm(kernel, a: copied, m: m, k: k, w: w, n: n, bias: bias).map(\.bitPattern),
                               "gathered bf16 input m \(m) n \(n) k \(k) \(kernel)")
                // the residual form: y + b where the accumulators start, from FP32 and from bf16 input
                let y0 = values(m * n, seed: 33)
                var wantAdd = y0
                for i in 0..<m { for j in 0..<n { wantAdd[i * n + j] += bias[j] } }
                x.withUnsafeBufferPointer { xp in wantAdd.withUnsafeMutableBufferPointer {
                    BLAS.bf16GEMM(m: m, a: xp.baseAddress!, lda: k, w: layer.bf16!, c: $0.baseAddress!, ldc: n)
                }}
                var add32 = y0, add16 = y0
                x.withUnsafeBufferPointer { xp in add32.withUnsafeMutableBufferPointer {
                    layer.forwardAdding(xp.baseAddress!, ldx: k, rows: m, into: $0.baseAddress!, ldy: n)
                }}
                xb.withUnsafeBufferPointer { xp in add16.withUnsafeMutableBufferPointer {
                    layer.forwardAdding(bf16: xp.baseAddress!, ldx: ld, rows: m, into: $0.baseAddress!, ldy: n)
                }}
                XCTAssertEqual(add32.map(\.bitPattern), wantAdd.map(\.bitPattern), "residual, FP32 input \(kernel)")
                XCTAssertEqual(add16.map(\.bitPattern), wantAdd.map(\.bitPattern), "residual, bf16 input \(kernel)")
            }
        }
    }

    /// The LayerNorm written as bf16 (C, both kernels) equals the Swift LayerNorm rounded to bf16, bit for
    /// bit: widths below 8, with an 8-lane tail, odd, the S width, and above 1024 (the chunked fallback).
    func testLayerNormIntoBF16EqualsLayerNormThenRounding() {
        for (rows, d) in [(3, 5), (19, 144), (7, 37), (4, 16), (2, 1030)] {
            let x = values(rows * (d + 3), seed: UInt64(d)).map { $0 * 3 + 0.5 }
            let norm = LayerNorm(dim: d, weight: values(d, seed: 71).map { 1 + $0 * 0.3 }, bias: values(d, seed: 72))
            var fp32 = [Float](repeating: 0, count: rows * d)
            x.withUnsafeBufferPointer { xp in fp32.withUnsafeMutableBufferPointer {
                norm.forward(xp.baseAddress!, ldx: d + 3, rows: rows, into: $0.baseAddress!, ldo: d)
            }}
            let ld = (d + 1) & ~1
            var want = [UInt16](repeating: 0, count: rows * ld)
            fp32.withUnsafeBufferPointer { fp in want.withUnsafeMutableBufferPointer { wp in
                for r in 0..<rows { moemae_bf16_round(fp.baseAddress! + r * d, wp.baseAddress! + r * ld, d) }
            }}
            for kernel in kernelsHere {
                var got = [UInt16](repeating: 0, count: rows * ld)
                var scratch = [Float](repeating: 0, count: 16 * d)
                x.withUnsafeBufferPointer { xp in got.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer {
                    norm.forward(xp.baseAddress!, ldx: d + 3, rows: rows, bf16: yp.baseAddress!, ldy: ld, scratch: $0.baseAddress!, kernel: kernel)
                }}}
                XCTAssertEqual(got, want, "rows \(rows) d \(d) \(kernel)")
            }
        }
    }

    /// The experts' fused epilogue (gated SiLU, ⊙ V·x, bf16 output) gives the numbers of the separate
    /// passes it replaces — product into a hidden buffer, `moemae_add_gated_silu_rows` into a zeroed mix,
    /// ⊙ V·x, rounding to bf16 — bit for bit where those passes run their AVX2 or AVX-512 SiLU (the
    /// portable SiLU rounds its multiply-adds separately: there within one bf16 step), for both kernels;
    /// hidden widths with partial 16-column blocks and more than one 48-row chunk, odd k.
    func testFusedExpertEpilogueEqualsSeparatePasses() {
        let exact = moemae_kernels_vectorised() >= 1
        for (tokens, experts, h, k) in [(61, 5, 37, 33), (120, 4, 144, 144), (7, 3, 72, 144), (50, 6, 16, 17)] {
            let x = values(tokens * k, seed: UInt64(h)).map { $0 * 0.5 }
            let ws = (0..<experts).map { values(h * k, seed: UInt64(40 + $0)).map { $0 * 0.2 } }
            let bs = (0..<experts).map { values(h, seed: UInt64(50 + $0)) }
            let vx = values(tokens * h, seed: 60)
            // two distinct experts per token, gates g and 1 - g; slots sorted by expert as the MoE block does
            var slotsOf = [[(token: Int32, gate: Float, second: UInt8)]](repeating: [], count: experts)
            for t in 0..<tokens {
                let e1 = (t * 7 + 1) % experts, e2 = (e1 + 1 + t % (experts - 1)) % experts
                let g = 0.5 + Float(t % 5) * 0.1
                slotsOf[e1].append((Int32(t), g, e1 > e2 ? 1 : 0)); slotsOf[e2].append((Int32(t), 1 - g, e2 > e1 ? 1 : 0))
            }
            let ld = (k + 1) & ~1, ldout = (h + 15) / 16 * 16
            for kernel in kernelsHere {
                let layers = (0..<experts).map { Linear(inFeatures: k, outFeatures: h, weight: ws[$0], bias: bs[$0]).withBF16(kernel) }
                // separate passes
                var mix = [Float](repeating: 0, count: tokens * h)
                for e in 0..<experts where !slotsOf[e].isEmpty {
                    let toks = slotsOf[e].map(\.token), gates = slotsOf[e].map(\.gate)
                    var hidden = [Float](repeating: 0, count: toks.count * h)
                    x.withUnsafeBufferPointer { xp in toks.withUnsafeBufferPointer { tp in hidden.withUnsafeMutableBufferPointer {
                        layers[e].forwardGathered(xp.baseAddress!, ldx: k, rows: tp.baseAddress!, count: toks.count, into: $0.baseAddress!, ldy: h)
                    }}}
                    hidden.withUnsafeBufferPointer { hp in toks.withUnsafeBufferPointer { tp in gates.withUnsafeBufferPointer { gp in
                        mix.withUnsafeMutableBufferPointer {
                            VectorKernels.addGatedSiLURows(hp.baseAddress!, ldh: h, rows: toks.count, n: h, tokens: tp.baseAddress!,
                                                           gates: gp.baseAddress!, into: $0.baseAddress!, ldd: h)
                        }
                    }}}
                }
                var want = [UInt16](repeating: 0, count: tokens * h)
                let product = zip(mix, vx).map { $0 * $1 }
                product.withUnsafeBufferPointer { moemae_bf16_round($0.baseAddress!, &want, tokens * h) }
                // fused
                let xb = bf16Rows(x, rows: tokens, k: k, ld: ld, kernel: kernel)
                var fmix = [Float](repeating: .nan, count: tokens * h)
                var out = [UInt16](repeating: 0xffff, count: tokens * ldout)
                for e in 0..<experts where !slotsOf[e].isEmpty {
                    let toks = slotsOf[e].map(\.token), gates = slotsOf[e].map(\.gate), second = slotsOf[e].map(\.second)
                    xb.withUnsafeBufferPointer { xp in toks.withUnsafeBufferPointer { tp in gates.withUnsafeBufferPointer { gp in
                        second.withUnsafeBufferPointer { sp in bs[e].withUnsafeBufferPointer { bp in vx.withUnsafeBufferPointer { vp in
                            fmix.withUnsafeMutableBufferPointer { mp in out.withUnsafeMutableBufferPointer { op in
                                BLAS.bf16ExpertSiLU(count: toks.count, a: xp.baseAddress!, lda: ld, tokens: tp.baseAddress!, gates: gp.baseAddress!,
                                                    second: sp.baseAddress!, w: layers[e].bf16!, bias: bp.baseAddress!, mix: mp.baseAddress!,
                                                    ldmix: h, vx: vp.baseAddress!, ldvx: h, out: op.baseAddress!, ldout: ldout)
                            }}
                        }}}
                    }}}
                }
                var worst: Float = 0
                for t in 0..<tokens {
                    for j in 0..<h {
                        let got = out[t * ldout + j], ref = want[t * h + j]
                        if exact {
                            XCTAssertEqual(got, ref, "token \(t) column \(j), h \(h) k \(k) \(kernel)")
                            if got != ref { return }
                        } else {
                            var a: Float = 0, b: Float = 0, ga = got, gb = ref
                            moemae_bf16_widen(&ga, &a, 1); moemae_bf16_widen(&gb, &b, 1)
                            worst = max(worst, abs(a - b) / max(abs(b), 1e-3))
                        }
                    }
                    for j in h..<ldout { XCTAssertEqual(out[t * ldout + j], 0, "pad column \(j) of token \(t)") }
                }
                XCTAssertLessThanOrEqual(worst, 0x1p-7, "h \(h) k \(k) \(kernel)")
            }
        }
    }

    /// `--precision bf16` refuses clearly on a CPU without AVX512_BF16, naming what it lacks.
    func testBF16RefusedWithoutAVX512BF16() throws {
        let model = try MoEMAEModel(config: ModelConfig.preset(named: "XXS")!, weights: StateDict.random(config: ModelConfig.preset(named: "XXS")!, seed: 1))
        if CPUFeatures.current.hasBF16Kernel {
            XCTAssertEqual(try model.converted(to: .bf16).precision, .bf16)
            return
        }
        XCTAssertThrowsError(try model.converted(to: .bf16)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("AVX512_BF16") && text.contains("lacks"), text)
            XCTAssertEqual(error as? ModelError, ModelError.bf16Unsupported())
        }
    }

    /// The golden S model in bf16 against the reference's FP32 outputs, and back to FP32 (the AVX512_BF16
    /// kernels where the CPU has them, which give the portable kernels' numbers; else the portable ones).
    func testGoldenModelInBF16() throws {
        let fp32 = try Golden.model("public")
        let kernel: BF16Kernel = CPUFeatures.current.hasBF16Kernel ? .avx512bf16 : .portable
        let model = try fp32.converted(to: .bf16, bf16Kernel: kernel)
        XCTAssertEqual(model.precision, .bf16)
        let g = try SafeTensorsFile(path: goldenPath("golden-public.safetensors"))
        let b = try EncoderBatch(dn: try g.array("pixels", as: UInt16.self), week: try g.ints("week"),
                                 hour: try g.floats("hour").map(Double.init), lat: try g.floats("lat").map(Double.init),
                                 lon: try g.floats("lon").map(Double.init), encoding: InputEncoding(hour: .utc))
        let r = try InferenceEngine(model: model, workers: 2).encode(b)
        let ref = try g.floats("embedding_mean_preln"), refExperts = try g.ints("experts_top2")
        let d = relativeMaxDiff(r.embedding, ref)
        let decisions = r.experts.count / 2
        let top1 = (0..<decisions).filter { Int(r.experts[2 * $0]) == refExperts[2 * $0] }.count
        print("golden public in bf16 (\(kernel.rawValue)): embedding max|Δ|/max|ref| \(d), top-1 routing agreement \(Double(top1) / Double(decisions))")
        XCTAssertGreaterThan(d, 1e-5, "bf16 must not silently be FP32")
        XCTAssertLessThan(d, 0.01)
        XCTAssertGreaterThan(Double(top1) / Double(decisions), 0.98)

        let back = try model.converted(to: .fp32)
        XCTAssertEqual(back.precision, .fp32)
        let rb = try InferenceEngine(model: back, workers: 2).encode(b)
        XCTAssertLessThanOrEqual(relativeMaxDiff(rb.embedding, ref), GoldenParityTests.tolerance)
    }
}
