import Foundation
import MoEMAE

/// The pseudo-random generator of training: xoshiro256** (Blackman & Vigna, "Scrambled linear
/// pseudorandom number generators", 2021; prng.di.unimi.it), seeded through SplitMix64 (Steele,
/// Lea & Flood 2014) as its authors recommend.
///
/// Training never carries a generator across steps: each random stream is derived from the run's
/// seed and a counter (``init(seed:stream:counter:)``) — gate noise and expert dropout of step s
/// from (seed, "step", s), the masks of epoch e from (seed, "mask", e), the shuffle of epoch e from
/// (seed, "shuffle", e). A run is therefore reproducible from `--seed` alone, and `--resume` only
/// needs the step number to continue with exactly the random numbers an uninterrupted run would use.
public struct TrainingRandom: Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public static func == (a: TrainingRandom, b: TrainingRandom) -> Bool { a.state == b.state }

    /// Random streams of a run.
    public enum Stream: UInt64, Sendable {
        case initialization = 1, step = 2, mask = 3, shuffle = 4
    }

    /// SplitMix64: the 64-bit mixer used to expand seeds.
    @inline(__always)
    public static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator whose 256-bit state is four SplitMix64 outputs from `seed`.
    public init(seed: UInt64) {
        var s = seed
        state = (Self.splitMix64(&s), Self.splitMix64(&s), Self.splitMix64(&s), Self.splitMix64(&s))
    }

    /// The generator of `stream` number `counter` of a run seeded with `seed`.
    public init(seed: UInt64, stream: Stream, counter: UInt64) {
        var s = seed
        let a = Self.splitMix64(&s)
        var t = a ^ (stream.rawValue &* 0xD1B5_4A32_D192_ED03)
        let b = Self.splitMix64(&t)
        self.init(seed: b ^ (counter &* 0x8CB9_2BA7_2F3D_8DD7) &+ counter)
    }

    @inline(__always)
    package static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits (xoshiro256**).
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Self.rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = Self.rotl(state.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<n (Lemire's multiply-shift with rejection; unbiased).
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        while true {
            let r = next().multipliedFullWidth(by: bound)
            if r.low >= (0 &- bound) % bound { return Int(r.high) }
        }
    }

    /// Standard normal N(0, 1) by the Box–Muller transform (both values of a pair used through `spare`).
    public mutating func normal(spare: inout Double?) -> Double {
        if let s = spare { spare = nil; return s }
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * Foundation.log(u1)).squareRoot(), a = 2 * Double.pi * u2
        spare = r * Foundation.sin(a)
        return r * Foundation.cos(a)
    }

    /// Fills `out` with `n` standard normal Float values.
    public mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, count n: Int) {
        var spare: Double? = nil
        for i in 0..<n { out[i] = Float(normal(spare: &spare)) }
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, below(i + 1)) }
        return p
    }

    /// Fills `out[0..<n]` with inverted-dropout factors: 0 with probability `p`, else `1/(1−p)`
    /// (`torch.nn.Dropout` in training mode). Uses 16 random bits per element, so p is realised to
    /// within 2^-16 (four elements per 64-bit draw).
    public mutating func fillDropout(_ out: UnsafeMutablePointer<Float>, count n: Int, p: Float) {
        let threshold = UInt64((Double(p) * 65536).rounded())
        let keep = 1 / (1 - p)
        var i = 0
        while i < n {
            var bits = next()
            for _ in 0..<4 where i < n {
                out[i] = (bits & 0xFFFF) < threshold ? 0 : keep
                bits >>= 16; i += 1
            }
        }
    }
}
