import CKernels

/// Element-wise and row-wise kernels (LayerNorm, bias, the scalar exp of the gate) written with
/// `SIMD8<Float>` so they vectorise; softmax and the gated SiLU call the AVX2 kernels of
/// `Sources/CKernels`; the matrix products are in ``BLAS``. No allocation anywhere in here.
package enum VectorKernels {
    package typealias V8 = SIMD8<Float>

    @inline(__always) package static func load(_ p: UnsafePointer<Float>) -> V8 {
        UnsafeRawPointer(p).loadUnaligned(as: V8.self)
    }

    @inline(__always) package static func store(_ v: V8, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
    }

    /// e^x with relative error ≈ 1 ulp on [-87, 88] (Cephes `expf`: range reduction by n = round(x·log2 e)
    /// with ln 2 split in two, degree-6 polynomial, scale by 2^n through the exponent bits). Inputs are
    /// clamped to [-87.3, 88.3], so e^x of very negative x is ≈ 1e-38, not 0.
    ///
    /// Written as scalar code without library calls or checked conversions (round-to-nearest through the
    /// 1.5·2^23 trick) so that loops calling it are vectorised by LLVM; generic `SIMD` conversions and
    /// `pointwiseMin/Max` are not (they compile to per-lane calls).
    @inline(__always) package static func exp(_ xIn: Float) -> Float {
        var x = xIn < -87.3 ? -87.3 : xIn
        x = x > 88.3 ? 88.3 : x
        let magic: Float = 12_582_912
        let t = x * 1.44269504088896341 + magic
        let fx = t - magic
        var r = x - fx * 0.693359375
        r = r + fx * 2.12194440e-4
        let z = r * r
        var y: Float = 1.9875691500e-4
        y = y * r + 1.3981999507e-3
        y = y * r + 8.3334519073e-3
        y = y * r + 4.1665795894e-2
        y = y * r + 1.6666665459e-1
        y = y * r + 5.0000001201e-1
        y = y * z + r + 1
        let n = Int32(bitPattern: t.bitPattern) &- Int32(bitPattern: magic.bitPattern)
        return y * Float(bitPattern: UInt32(bitPattern: (n &+ 127) &<< 23))
    }

    /// Sum of `n` values (8 partial sums, so the additions pipeline).
    @inline(__always) package static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        let vec = n & ~7
        var acc = V8.zero
        var i = 0
        while i < vec { acc += load(p + i); i &+= 8 }
        var s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
        while i < n { s += p[i]; i &+= 1 }
        return s
    }

    /// In-place softmax of `rows` rows of `cols` values (row stride `ld`), max-subtracted
    /// (`moemae_softmax_rows`: AVX2+FMA when the CPU has it, the same Cephes exp as ``exp(_:)-swift.type.method``).
    package static func softmaxRows(_ p: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int) {
        moemae_softmax_rows(p, Int32(rows), Int32(cols), Int32(ld))
    }

    /// `out[r] = (x[r] - mean) / sqrt(var + eps) · gamma + beta` for `rows` rows of width `d`
    /// (biased variance, like `torch.nn.LayerNorm`). `out` may equal `x`.
    package static func layerNorm(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, d: Int,
                          gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float,
                          out: UnsafeMutablePointer<Float>, ldo: Int) {
        let vec = d & ~7
        let invD = 1 / Float(d)
        for r in 0..<rows {
            let xr = x + r * ldx, orow = out + r * ldo
            let mean = sum(xr, d) * invD
            var i = 0
            let mv = V8(repeating: mean)
            var qv = V8.zero
            i = 0
            while i < vec { let c = load(xr + i) - mv; qv += c * c; i += 8 }
            var q = ((qv[0] + qv[1]) + (qv[2] + qv[3])) + ((qv[4] + qv[5]) + (qv[6] + qv[7]))
            while i < d { let c = xr[i] - mean; q += c * c; i += 1 }
            let rstd = 1 / (q * invD + eps).squareRoot()
            let rv = V8(repeating: rstd)
            i = 0
            while i < vec {
                store((load(xr + i) - mv) * rv * load(gamma + i) + load(beta + i), orow + i); i += 8
            }
            while i < d { orow[i] = (xr[i] - mean) * rstd * gamma[i] + beta[i]; i += 1 }
        }
    }

    /// `dst[i] += gate · SiLU(h[i])` for `n` values, SiLU(x) = x / (1 + e^-x) (`moemae_add_scaled_silu`).
    @inline(__always)
    package static func addScaledSiLU(_ h: UnsafePointer<Float>, gate: Float, into dst: UnsafeMutablePointer<Float>, n: Int) {
        moemae_add_scaled_silu(h, gate, dst, Int32(n))
    }

    /// `dst[tokens[r]][i] += gates[r] · SiLU(hidden[r][i])` for `rows` routed rows of `n` values (row
    /// strides `ldh`, `ldd`): the experts' gated SiLU of one expert's tokens in one call
    /// (`moemae_add_gated_silu_rows`).
    @inline(__always)
    package static func addGatedSiLURows(_ hidden: UnsafePointer<Float>, ldh: Int, rows: Int, n: Int, tokens: UnsafePointer<Int32>,
                                         gates: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, ldd: Int) {
        moemae_add_gated_silu_rows(hidden, Int32(ldh), Int32(rows), Int32(n), tokens, gates, dst, Int32(ldd))
    }

    /// `a[r][i] *= b[r][i]` for `rows × n` values with row strides `lda`, `ldb`.
    package static func multiply(_ a: UnsafeMutablePointer<Float>, lda: Int, by b: UnsafePointer<Float>, ldb: Int, rows: Int, n: Int) {
        let vec = n & ~7
        for r in 0..<rows {
            let ar = a + r * lda, br = b + r * ldb
            var i = 0
            while i < vec { store(load(ar + i) * load(br + i), ar + i); i += 8 }
            while i < n { ar[i] *= br[i]; i += 1 }
        }
    }

    /// `x[r] += v` for `rows` rows of width `n` (row stride `ld`): adds a bias to every row.
    package static func addRows(_ x: UnsafeMutablePointer<Float>, ld: Int, rows: Int, n: Int, _ v: UnsafePointer<Float>) {
        let vec = n & ~7
        for r in 0..<rows {
            let xr = x + r * ld
            var i = 0
            while i < vec { store(load(xr + i) + load(v + i), xr + i); i += 8 }
            while i < n { xr[i] += v[i]; i += 1 }
        }
    }

    /// `x[r] = v` for `rows` rows of width `n`: fills every row with a bias before a GEMM with beta 1.
    package static func fillRows(_ x: UnsafeMutablePointer<Float>, ld: Int, rows: Int, n: Int, _ v: UnsafePointer<Float>) {
        for r in 0..<rows { (x + r * ld).update(from: v, count: n) }
    }
}
