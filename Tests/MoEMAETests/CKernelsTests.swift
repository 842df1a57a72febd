import CKernels
import Foundation
import XCTest

/// The hand-vectorised kernels (Sources/CKernels) against Double-precision references; first the fused
/// grouped-query attention kernel
/// on its AVX-512, AVX2+FMA and portable paths (each one this CPU has), for the head widths of every
/// preset (16, 18), odd widths and token counts that are not multiples of the 8- or 16-query block.
final class CKernelsTests: XCTestCase {
    override func tearDown() { moemae_kernels_force_portable(0) }

    /// The kernel levels this CPU runs, best first (2 AVX-512, 1 AVX2+FMA, 0 portable).
    private var levels: [Int32] {
        moemae_kernels_force_portable(0)
        return Array((0...moemae_kernels_vectorised()).reversed())
    }

    /// out[i, h·hd + d] = Σ_j softmax_j(scale · q_h[i]·k_g[j]) v_g[j, d], g = h mod groups, in Double.
    private func reference(_ qkv: [Float], ldq: Int, tokens: Int, heads: Int, groups: Int, hd: Int) -> [Double] {
        let scale = 1 / Double(hd).squareRoot()
        var out = [Double](repeating: 0, count: tokens * heads * hd)
        for h in 0..<heads {
            let g = h % groups
            let qc = h * hd, kc = heads * hd + g * hd, vc = heads * hd + groups * hd + g * hd
            for i in 0..<tokens {
                var s = (0..<tokens).map { j in
                    (0..<hd).reduce(0.0) { $0 + Double(qkv[i * ldq + qc + $1]) * Double(qkv[j * ldq + kc + $1]) } * scale
                }
                let m = s.max()!
                s = s.map { Foundation.exp($0 - m) }
                let total = s.reduce(0, +)
                for d in 0..<hd {
                    out[i * heads * hd + h * hd + d] = (0..<tokens).reduce(0.0) { $0 + s[$1] * Double(qkv[$1 * ldq + vc + d]) } / total
                }
            }
        }
        return out
    }

    /// Runs the attention kernel capped at `level` on seeded q/k/v values in [-4, 4]; returns the inputs
    /// and the output.
    private func attention(tokens: Int, heads: Int, groups: Int, hd: Int, level: Int32, amplitude: Float = 4) -> (qkv: [Float], ldq: Int, out: [Float]) {
        moemae_kernels_limit(level)
        let ldq = heads * hd + 2 * groups * hd + 3  // a wider row than needed, like a strided view
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(tokens * 131 + hd)
        let qkv = (0..<(tokens * ldq)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000 * amplitude  // uniform in ±amplitude
        }
        let ldo = heads * hd
        var out = [Float](repeating: .nan, count: tokens * ldo)
        var scratch = [Float](repeating: 0, count: Int(moemae_attention_scratch_floats(Int32(tokens), Int32(heads), Int32(groups), Int32(hd))))
        moemae_attention_tile(qkv, Int32(ldq), Int32(tokens), Int32(heads), Int32(groups), Int32(hd),
                              1 / Float(hd).squareRoot(), &out, Int32(ldo), &scratch)
        return (qkv, ldq, out)
    }

    private func check(tokens: Int, heads: Int, groups: Int, hd: Int, level: Int32, amplitude: Float = 4, tolerance: Double = 2e-6,
                       file: StaticString = #filePath, line: UInt = #line) {
        let (qkv, ldq, out) = attention(tokens: tokens, heads: heads, groups: groups, hd: hd, level: level, amplitude: amplitude)
        let ref = reference(qkv, ldq: ldq, tokens: tokens, heads: heads, groups: groups, hd: hd)
        let refMax = ref.map(abs).max()!
        var worst = 0.0
        for i in ref.indices { worst = max(worst, abs(Double(out[i]) - ref[i])) }
        XCTAssertLessThan(worst, tolerance * refMax, "tokens \(tokens), heads \(heads)/\(groups), hd \(hd), level \(level)",
                          file: file, line: line)
    }

    func testSPresetShapeOnEveryPath() {
        for level in levels { check(tokens: 105, heads: 8, groups: 4, hd: 18, level: level) }
    }

    func testOtherWidthsAndTokenCounts() {
        for level in levels {
            check(tokens: 105, heads: 8, groups: 4, hd: 16, level: level)   // XS
            check(tokens: 30, heads: 6, groups: 3, hd: 18, level: level)    // training encoder: 4 + 1 + 25 kept
            check(tokens: 5, heads: 2, groups: 1, hd: 7, level: level)      // one partial block, one vector
            check(tokens: 17, heads: 4, groups: 2, hd: 24, level: level)    // three full vectors
            check(tokens: 9, heads: 2, groups: 2, hd: 30, level: level)     // wider than the vector path
            check(tokens: 1, heads: 2, groups: 1, hd: 16, level: level)     // a single token
            check(tokens: 33, heads: 3, groups: 3, hd: 18, level: level)    // two full 16-query blocks and one query
        }
    }

    /// Scores far apart (q and k in ±40: score differences of thousands, so most of 2^(s − max) are below
    /// 2^−126 and become exactly 0): the output stays finite and matches Double on every path. The
    /// tolerance is wider than above because a score's rounding error (≈ 1e-7 of scores in the hundreds)
    /// moves e^(s − max) by that much times the score.
    func testWidelySpreadScoresOnEveryPath() {
        for level in levels {
            check(tokens: 105, heads: 2, groups: 1, hd: 18, level: level, amplitude: 40, tolerance: 1e-4)
            check(tokens: 21, heads: 2, groups: 2, hd: 16, level: level, amplitude: 40, tolerance: 1e-4)
        }
    }

    /// The softmax's 2^x (moemae_exp2) against Double: within 1.8e-7 relative (2.05 ulp measured over
    /// every float of [−126, 0]) on a dense sample of [−126, 127] on every path, bit for bit the same on
    /// every path, exactly 0 below −126, for −∞ and for NaN, and never subnormal.
    func testExp2MatchesDoubleAndAgreesOnEveryPath() {
        var x = (0..<200_003).map { Float(-126 + 253 * Double($0) / 200_002) }  // odd count: vector tails
        x += [0, -0.0, -1e-30, -0.5, 0.5, -1.5, -125.5, -126, -126.5, Float(-126).nextDown, -149, -1000, -3.4e38,
              -.infinity, .nan, -Float.leastNonzeroMagnitude, 127]
        var results: [[UInt32]] = []
        for level in levels {
            moemae_kernels_limit(level)
            var y = [Float](repeating: .nan, count: x.count)
            moemae_exp2(x, &y, Int32(x.count))
            var worst = 0.0
            for i in x.indices {
                XCTAssertTrue(y[i] == 0 || y[i] >= .leastNormalMagnitude, "2^\(x[i]) = \(y[i]) at level \(level)")
                if x[i] >= -126 {
                    let ref = Foundation.exp2(Double(x[i]))
                    worst = max(worst, abs(Double(y[i]) - ref) / ref)
                } else {
                    XCTAssertEqual(y[i], 0, "2^\(x[i]) at level \(level)")
                }
            }
            XCTAssertLessThan(worst, 1.8e-7, "level \(level)")
            results.append(y.map(\.bitPattern))
        }
        for r in results.dropFirst() { XCTAssertEqual(r, results[0]) }
    }

    /// The AVX-512 attention kernel performs per output element the AVX2 kernel's operations in the same
    /// order (16 queries per vector instead of 8), so the two agree bit for bit.
    func testAVX512AttentionEqualsAVX2BitForBit() throws {
        guard levels.first == 2 else { throw XCTSkip("this CPU has no AVX-512F (or the OS does not save the ZMM state)") }
        for (tokens, hd) in [(105, 18), (105, 16), (1, 18), (15, 16), (16, 18), (17, 18), (31, 16), (50, 18)] {
            let wide = attention(tokens: tokens, heads: 4, groups: 2, hd: hd, level: 2).out
            let narrow = attention(tokens: tokens, heads: 4, groups: 2, hd: hd, level: 1).out
            XCTAssertEqual(wide.map(\.bitPattern), narrow.map(\.bitPattern), "tokens \(tokens), hd \(hd)")
        }
    }

    /// The experts' gated SiLU over routed rows (repeated tokens, widths around the 8- and 16-lane
    /// vectors) on every path against Double.
    func testGatedSiLURowsOnEveryPath() {
        for level in levels {
            moemae_kernels_limit(level)
            for n in [1, 7, 15, 16, 17, 33, 72, 139, 144] {
                let rows = 5, tokensCount = 3, ldh = n + 2, ldd = n + 1
                let hidden = (0..<(rows * ldh)).map { Float(sin(Double($0) * 0.61) * 9) }
                let token: [Int32] = [2, 0, 2, 1, 0]
                let gate: [Float] = [0.7, 0.25, 0.3, 1, 0.75]
                var dst = (0..<(tokensCount * ldd)).map { Float($0 % 5) - 2 }
                var ref = dst.map(Double.init)
                moemae_add_gated_silu_rows(hidden, Int32(ldh), Int32(rows), Int32(n), token, gate, &dst, Int32(ldd))
                for r in 0..<rows {
                    for i in 0..<n {
                        let x = Double(hidden[r * ldh + i])
                        ref[Int(token[r]) * ldd + i] += Double(gate[r]) * x / (1 + Foundation.exp(-x))
                    }
                }
                for i in dst.indices { XCTAssertEqual(Double(dst[i]), ref[i], accuracy: 2e-5, "n \(n), level \(level), index \(i)") }
            }
        }
    }

    func testReportsWhichPathRuns() {
        moemae_kernels_force_portable(1)
        XCTAssertEqual(moemae_kernels_vectorised(), 0)
        moemae_kernels_force_portable(0)
        #if arch(x86_64)
        // Every x86-64 machine this project targets has AVX2+FMA; say so if this one does not.
        if moemae_kernels_vectorised() == 0 { print("note: AVX2+FMA not available; the portable kernels run") }
        #endif
    }

    func testExpAndSiLUMatchDouble() {
        for level in levels {
            moemae_kernels_limit(level)
            let x = (0..<1003).map { Float($0) * 0.16 - 80 }
            var y = [Float](repeating: 0, count: x.count)
            moemae_exp(x, &y, Int32(x.count))
            for i in x.indices {
                let ref = Foundation.exp(Double(x[i]))
                XCTAssertLessThan(abs(Double(y[i]) - ref) / ref, 1e-6, "exp(\(x[i]))")
            }
            let h = (0..<37).map { Float($0) * 0.7 - 12 }
            var dst = [Float](repeating: 1, count: h.count)
            moemae_add_scaled_silu(h, 0.25, &dst, Int32(h.count))
            for i in h.indices {
                let xi = Double(h[i]), ref = 1 + 0.25 * xi / (1 + Foundation.exp(-xi))
                XCTAssertEqual(Double(dst[i]), ref, accuracy: 1e-6)
            }
        }
    }

    /// The training kernels' two paths agree with each other and with the textbook formulas.
    func testTrainingKernelsMatchReferenceOnBothPaths() {
        let d = 45, rows = 3
        let x = (0..<(rows * d)).map { Float(sin(Double($0) * 0.37) * 3 + 0.5) }
        let dy = (0..<(rows * d)).map { Float(cos(Double($0) * 0.21) * 2) }
        let gamma = (0..<d).map { Float($0) * 0.02 + 0.7 }
        for portable in [false, true] {
            moemae_kernels_force_portable(portable ? 1 : 0)
            // SwiGLU forward/backward.
            let a = (0..<d).map { Float($0) * 0.5 - 11 }, v = (0..<d).map { Float($0) * -0.1 + 2 }
            var u = [Float](repeating: 0, count: d)
            moemae_swiglu(a, v, &u, Int32(d))
            var du = (0..<d).map { Float($0 % 7) - 3 }, dv = [Float](repeating: 0.5, count: d)
            let du0 = du
            moemae_swiglu_backward(a, v, &du, &dv, Int32(d))
            for i in 0..<d {
                let ai = Double(a[i]), s = 1 / (1 + Foundation.exp(-ai))
                XCTAssertEqual(Double(u[i]), ai * s * Double(v[i]), accuracy: 1e-5)
                XCTAssertEqual(Double(dv[i]), 0.5 + Double(du0[i]) * ai * s, accuracy: 1e-5)
                XCTAssertEqual(Double(du[i]), Double(du0[i]) * Double(v[i]) * s * (1 + ai * (1 - s)), accuracy: 1e-5)
            }
            // LayerNorm backward.
            var dx = [Float](repeating: 1, count: rows * d), dg = [Float](repeating: 0, count: d), db = [Float](repeating: 0, count: d)
            moemae_layernorm_backward(x, Int32(d), dy, Int32(d), Int32(rows), Int32(d), gamma, 1e-5, &dx, Int32(d), &dg, &db)
            var refG = [Double](repeating: 0, count: d), refB = [Double](repeating: 0, count: d)
            for r in 0..<rows {
                let xr = (0..<d).map { Double(x[r * d + $0]) }, gr = (0..<d).map { Double(dy[r * d + $0]) }
                let mean = xr.reduce(0, +) / Double(d)
                let rstd = 1 / (xr.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d) + 1e-5).squareRoot()
                let xh = xr.map { ($0 - mean) * rstd }
                let g = (0..<d).map { gr[$0] * Double(gamma[$0]) }
                let mg = g.reduce(0, +) / Double(d), mgx = (0..<d).map { g[$0] * xh[$0] }.reduce(0, +) / Double(d)
                for i in 0..<d {
                    XCTAssertEqual(Double(dx[r * d + i]), 1 + rstd * (g[i] - mg - xh[i] * mgx), accuracy: 1e-4)
                    refG[i] += gr[i] * xh[i]; refB[i] += gr[i]
                }
            }
            for i in 0..<d {
                XCTAssertEqual(Double(dg[i]), refG[i], accuracy: 1e-4)
                XCTAssertEqual(Double(db[i]), refB[i], accuracy: 1e-4)
            }
        }
    }
}
