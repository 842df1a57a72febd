import ArgumentParser

/// The EXAMPLES section that ends the help of every command (`moemae [SUB…] --help` and `moemae help
/// [SUB…]`): real commands that run from a checkout (the bundled example scene, pipelines and model).
/// ArgumentParser has no epilogue, so ``MoEMAECommand/main()`` appends ``section(for:)`` to its help text.
enum HelpExamples {
    static let scene = "examples/LC08_L2SP_008059_20191201_20200825_02_T1"

    /// Examples keyed by the command path after `moemae` ("" = the root command).
    static let table: [String: [String]] = [
        "": [
            "# The three main jobs (the bundled demonstration model is used when --weights/--probe are left out):",
            "# 1. tile scenes to a dataset (safetensors shards + manifest + tile footprints)",
            "moemae tile \(scene) --out dataset",
            "# 2. map land cover (COG labels + PNG quick-looks with legend + STAC Item)",
            "moemae map \(scene) --out maps --preview",
            "# 3. export expert maps (which expert each tile and patch token chose, every encoder layer)",
            "moemae map \(scene) --out experts --token-experts all --preview",
        ],
        "tile": [
            "moemae tile \(scene) --out dataset",
            "moemae tile \(scene) --out dataset-half-valid --min-valid 0.5 --format geotiff",
        ],
        "map": [
            "moemae map \(scene) --out maps --preview",
            "moemae map \(scene) --weights published.safetensors --probe probe.safetensors --out maps --scores",
        ],
        "plan": [
            "moemae plan \(scene) --out scenes.jsonl",
            "moemae plan ../shared/data/scenes --out scenes.jsonl",
        ],
        "gather": [
            "moemae gather maps --manifest scenes.jsonl",
            "moemae gather maps --manifest scenes.jsonl --no-vrt",
        ],
        "run": [
            "moemae run pipelines/landcover.yaml",
            "moemae run pipelines/experts.yaml --check",
        ],
        "info": [
            "moemae info \(scene)",
            "moemae info maps models/default/weights.safetensors --json",
        ],
        "embed": [
            "moemae embed dataset --out embeddings.safetensors",
            "moemae embed dataset --weights published.safetensors --out embeddings.safetensors",
        ],
        "probe": [
            "moemae probe fit --dataset dataset --embeddings embeddings.safetensors --labels my-patches/labels --task multilabel --out probe.safetensors",
            "moemae probe predict --embeddings embeddings.safetensors --out scores.safetensors",
        ],
        "probe fit": [
            "moemae probe fit --dataset dataset --embeddings embeddings.safetensors --labels my-patches/labels --task multilabel --out probe.safetensors",
            "moemae probe fit --dataset dataset --embeddings embeddings.safetensors --labels landcover.gpkg --class-field class --task multiclass --split train --out probe.safetensors",
        ],
        "probe import": [
            "moemae probe import probe.npz --classes-file classes.json --task multilabel --weights published.safetensors --out probe.safetensors",
        ],
        "probe predict": [
            "moemae probe predict --embeddings embeddings.safetensors --out scores.safetensors",
            "moemae probe predict --embeddings embeddings.safetensors --probe probe.safetensors --out scores.safetensors",
        ],
        "probe eval": [
            "moemae probe eval --dataset dataset --embeddings embeddings.safetensors --labels my-patches/labels --probe probe.safetensors --split test",
        ],
        "pretrain": [
            "moemae pretrain dataset --out training --epochs 2",
            "moemae pretrain dataset --out training --init models/default/weights.safetensors --max-steps 100",
        ],
        "weights": [
            "moemae weights import moe_mae_checkpoint.pth --out published.safetensors",
            "moemae weights info models/default/weights.safetensors --summary",
        ],
        "weights import": ["moemae weights import moe_mae_checkpoint.pth --out published.safetensors"],
        "weights info": ["moemae weights info models/default/weights.safetensors --summary"],
        "bench": ["moemae bench encoder", "moemae bench train --batch 32"],
        "bench encoder": ["moemae bench encoder", "moemae bench encoder --workers 2 --blas-threads 1"],
        "bench train": ["moemae bench train", "moemae bench train --batch 32 --batch 128 --workers 2"],
    ]

    /// The command path a help text is about, from its `USAGE: moemae a b …` line.
    static func commandPath(ofHelp text: String) -> String? {
        guard let usage = text.split(separator: "\n").first(where: { $0.hasPrefix("USAGE: moemae") }) else { return nil }
        let words = usage.dropFirst("USAGE: moemae".count).split(separator: " ")
        return words.prefix { w in !(w.hasPrefix("<") || w.hasPrefix("[") || w.hasPrefix("-")) }.joined(separator: " ")
    }

    /// `EXAMPLES:` and the command's examples, or nil when it has none.
    static func section(forHelp text: String) -> String? {
        guard let path = commandPath(ofHelp: text), let examples = table[path], !examples.isEmpty else { return nil }
        return "EXAMPLES:\n" + examples.map { "  " + $0 }.joined(separator: "\n")
    }
}
