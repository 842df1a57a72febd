/// N feature vectors of dimension D, row-major in Double (the precision the solvers work in).
public struct FeatureMatrix: Sendable, Equatable {
    /// Number of rows N (tiles).
    public let rows: Int
    /// Number of columns D (embedding dimension).
    public let columns: Int
    /// Row-major values, `rows × columns`.
    public var values: [Double]

    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(values.count == rows * columns, "FeatureMatrix: \(values.count) values for \(rows)×\(columns)")
        self.rows = rows; self.columns = columns; self.values = values
    }

    /// From Float32 embeddings `[rows, columns]` row-major.
    public init(rows: Int, columns: Int, floats: [Float]) {
        self.init(rows: rows, columns: columns, values: floats.map(Double.init))
    }

    /// The rows at `indices`, in that order.
    public func selecting(rows indices: [Int]) -> FeatureMatrix {
        var out = [Double]()
        out.reserveCapacity(indices.count * columns)
        for i in indices { out.append(contentsOf: values[i * columns..<(i + 1) * columns]) }
        return FeatureMatrix(rows: indices.count, columns: columns, values: out)
    }
}

/// Per-feature standardisation `(x − mean) / scale`, as scikit-learn's `StandardScaler`:
/// population standard deviation (ddof 0), and scale 1 for a constant feature.
public struct Standardizer: Sendable, Equatable {
    public var mean: [Double]
    public var scale: [Double]

    public init(fitting x: FeatureMatrix) {
        let n = Double(max(x.rows, 1)), d = x.columns
        var mean = [Double](repeating: 0, count: d)
        for r in 0..<x.rows { for c in 0..<d { mean[c] += x.values[r * d + c] } }
        for c in 0..<d { mean[c] /= n }
        var variance = [Double](repeating: 0, count: d)
        for r in 0..<x.rows { for c in 0..<d { let v = x.values[r * d + c] - mean[c]; variance[c] += v * v } }
        self.mean = mean
        self.scale = variance.map { v in
            let s = (v / n).squareRoot()
            // StandardScaler's `_handle_zeros_in_scale`: near-constant features keep scale 1.
            return s < 10 * Double.ulpOfOne ? 1 : s
        }
    }

    public func apply(_ x: FeatureMatrix) -> FeatureMatrix {
        var v = x.values
        let d = x.columns
        for r in 0..<x.rows { for c in 0..<d { v[r * d + c] = (v[r * d + c] - mean[c]) / scale[c] } }
        return FeatureMatrix(rows: x.rows, columns: d, values: v)
    }

    /// Folds the standardisation into a linear map fitted on standardised features, so that it applies
    /// to raw features: `w′ = w / scale`, `b′ = b − Σ w·mean/scale`. `weight` is [K, D] row-major.
    public func fold(weight: inout [Double], bias: inout [Double]) {
        let d = mean.count
        for k in 0..<bias.count {
            var shift = 0.0
            for c in 0..<d {
                weight[k * d + c] /= scale[c]
                shift += weight[k * d + c] * mean[c]
            }
            bias[k] -= shift
        }
    }
}
