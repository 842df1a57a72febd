import Foundation
import XCTest
@testable import MoEMAE

final class VectorKernelsTests: XCTestCase {
    func testExpIsAccurateOverTheUsedRange() {
        var worst: Double = 0
        var x: Float = -80
        while x < 80 {
            let v = [VectorKernels.exp(x), 0, 0, VectorKernels.exp(x)]
            let ref = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(v[3]) - ref) / ref)
            x += 0.173
        }
        XCTAssertLessThan(worst, 1e-6, "relative error of the SIMD exp")
    }

    func testSoftmaxLayerNormAndSiLUMatchNaiveLoops() {
        let cols = 105, d = 108
        var rows = (0..<(3 * cols)).map { Float(sin(Double($0) * 0.37) * 7) }
        let naive = (0..<3).flatMap { r -> [Double] in
            let row = rows[(r * cols)..<((r + 1) * cols)].map(Double.init)
            let m = row.max()!
            let e = row.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            return e.map { $0 / s }
        }
        rows.withUnsafeMutableBufferPointer { VectorKernels.softmaxRows($0.baseAddress!, rows: 3, cols: cols, ld: cols) }
        for i in rows.indices { XCTAssertEqual(Double(rows[i]), naive[i], accuracy: 1e-6) }

        let x = (0..<(2 * d)).map { Float(cos(Double($0) * 0.11) * 3 + 1) }
        let gamma = (0..<d).map { Float($0) * 0.01 + 0.5 }, beta = (0..<d).map { Float($0) * -0.02 }
        var out = [Float](repeating: 0, count: 2 * d)
        VectorKernels.layerNorm(x, ldx: d, rows: 2, d: d, gamma: gamma, beta: beta, eps: 1e-5, out: &out, ldo: d)
        for r in 0..<2 {
            let row = x[(r * d)..<((r + 1) * d)].map(Double.init)
            let m = row.reduce(0, +) / Double(d)
            let v = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(d)
            for i in 0..<d {
                let ref = (row[i] - m) / (v + 1e-5).squareRoot() * Double(gamma[i]) + Double(beta[i])
                XCTAssertEqual(Double(out[r * d + i]), ref, accuracy: 1e-5)
            }
        }

        let h = (0..<d).map { Float($0 - 50) * 0.3 }
        var acc = [Float](repeating: 1, count: d)
        VectorKernels.addScaledSiLU(h, gate: 0.25, into: &acc, n: d)
        for i in 0..<d {
            let xv = Double(h[i])
            XCTAssertEqual(Double(acc[i]), 1 + 0.25 * xv / (1 + Foundation.exp(-xv)), accuracy: 1e-5)
        }
    }
}
