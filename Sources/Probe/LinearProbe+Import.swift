import Diagnostics
import Foundation

extension LinearProbe {
    /// A probe from a NumPy archive with `coef` [C, D] and `intercept` [C] (`np.savez(path,
    /// coef=clf.coef_, intercept=clf.intercept_)` for a scikit-learn `LogisticRegression`; for a
    /// one-vs-rest model, the per-class rows stacked).
    ///
    /// A two-class scikit-learn model stores one row (the score of the second class); for a multi-class
    /// probe with two names it becomes the equivalent softmax pair `[−w/2; w/2]`, `[−b/2; b/2]`.
    /// Colours: the BigEarthNet/CORINE colour of classes named as in ``BigEarthNetNomenclature``, the
    /// default palette otherwise.
    public static func imported(npz path: String, classNames: [String], task: ProbeTask, feature: ProbeFeature,
                                weightsSHA256: String, threshold: Double = LinearProbe.defaultThreshold) throws -> LinearProbe {
        let arrays = try NumpyArray.archive(path: path)
        guard let coef = arrays["coef"], let intercept = arrays["intercept"] else {
            throw ProbeError(path: path, "the archive must hold 'coef' and 'intercept' arrays (np.savez(path, coef=clf.coef_, intercept=clf.intercept_)); it has \(arrays.keys.sorted())")
        }
        guard coef.shape.count == 2, coef.shape[0] >= 1, coef.shape[1] >= 1 else {
            throw ProbeError(path: path, "'coef' has shape \(coef.shape); expected [classes, dimension]")
        }
        let rows = coef.shape[0], d = coef.shape[1]
        guard intercept.values.count == rows, intercept.shape.count <= 1 else {
            throw ProbeError(path: path, "'intercept' has shape \(intercept.shape); expected [\(rows)] to match 'coef'")
        }
        guard classNames.count >= 2 else {
            throw Failure(.invalidArgument, "a probe needs at least two class names, got \(classNames.count)", settings: [.classes])
        }
        guard Set(classNames).count == classNames.count else {
            throw Failure(.invalidArgument, "class names repeat: \(classNames)", settings: [.classes])
        }
        var weight = coef.values, bias = intercept.values
        if rows == 1 && classNames.count == 2 && task == .multiclass {
            let half = weight.map { $0 / 2 }
            weight = half.map { -$0 } + half
            bias = [-bias[0] / 2, bias[0] / 2]
        } else if rows != classNames.count {
            throw ProbeError(path: path, "'coef' has \(rows) rows but \(classNames.count) class names were given")
        }
        guard weight.allSatisfy(\.isFinite), bias.allSatisfy(\.isFinite) else {
            throw ProbeError(path: path, "'coef' or 'intercept' holds NaN or infinite values")
        }
        guard (0...1).contains(threshold) else {
            throw Failure(.invalidArgument, "a threshold must lie in 0…1, got \(threshold)", settings: [.threshold])
        }
        return LinearProbe(task: task, classes: defaultClasses(classNames),
                           thresholds: task == .multilabel ? [Double](repeating: threshold, count: classNames.count) : [],
                           feature: feature, weightsSHA256: weightsSHA256, dimension: d,
                           weight: weight.map(Float.init), bias: bias.map(Float.init),
                           source: "imported from \((path as NSString).lastPathComponent)")
    }

    /// Classes named `names`: BigEarthNet classes keep their CORINE colours, others take the default palette.
    public static func defaultClasses(_ names: [String]) -> [ProbeClass] {
        let palette = ProbeClass.withDefaultColors(names)
        return names.indices.map { i in
            if case .mapped(let c) = BigEarthNetNomenclature.lookup(names[i]),
               BigEarthNetNomenclature.classes[c].name.lowercased() == names[i].lowercased() {
                return ProbeClass(name: names[i], color: BigEarthNetNomenclature.classes[c].color)
            }
            return palette[i]
        }
    }

    /// Class names from a JSON file: a list of strings, or an object with a `classes` list.
    public static func classNames(fromFile path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProbeError(path: path, "cannot read the class names file")
        }
        let object = try? JSONSerialization.jsonObject(with: data)
        if let list = object as? [String] { return list }
        if let dict = object as? [String: Any], let list = dict["classes"] as? [String] { return list }
        throw ProbeError(path: path, "expected a JSON list of class names, or an object with a \"classes\" list")
    }
}
