import ArgumentParser
import Foundation
import CheckpointImport
import MoEMAE
import SafeTensors
import Diagnostics

/// `moemae weights …`: import a published PyTorch checkpoint and inspect weight files.
struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Import PyTorch checkpoints to safetensors and inspect weight files.",
        subcommands: [Import.self, Info.self]
    )
}

extension WeightsCommand {
    /// `moemae weights import CHECKPOINT.pth --out WEIGHTS.safetensors`
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Convert a torch.save checkpoint (.pth) to a safetensors weights file, without Python.",
            discussion: """
            Reads the zip container and the pickle natively; only tensors, storages and ordered \
            dictionaries are loaded and no code in the checkpoint is ever executed (any other \
            global is refused). Accepts the published training checkpoint (epoch, model_state, \
            opt_state, scaler_state, best_train_loss) or a bare state dict. Every model_state \
            tensor is written under its original key, dtype and shape, bit for bit; the header \
            records the source file, epoch and best_train_loss.
            """
        )

        @Argument(help: "The torch.save checkpoint to read (.pth, .pt).")
        var checkpoint: String

        @Option(name: .shortAndLong, help: "The safetensors file to write (written under a temporary name, then renamed).")
        var out: String

        /// `--overwrite`, as in every other command that writes a file (`tile`, `embed`, `probe`, `map`);
        /// `--force`, its former name, is still accepted.
        @Flag(name: [.customLong("overwrite"), .customLong("force")],
              help: "Replace --out if it exists (only once the new file is complete).")
        var overwrite = false

        func run() throws {
            if !overwrite, FileManager.default.fileExists(atPath: out) {
                // A refused output is a plain error (exit 1, one line), not a usage error (exit 64 + usage).
                throw OutputExists(path: out, hint: replaceOutputAdvice)
            }
            // Errors (CheckpointError, SafeTensorsError) name the file and what is wrong;
            // MoEMAECommand.reportFailure prints them as one line `error: …` and exits with status 1.
            // A safetensors file needs no import: say so instead of "not a readable zip archive".
            if (try? SafeTensorsFile(path: checkpoint)) != nil {
                throw AlreadySafeTensors(path: checkpoint)
            }
            let ckpt = try TorchCheckpoint(path: checkpoint)
            let summary = try ckpt.importWeights(to: out)
            var line = "wrote \(summary.tensorCount) tensors (\(formatCount(summary.byteCount)) bytes) to \(out)"
            if let e = ckpt.epoch { line += "; epoch \(e)" }
            if let l = summary.metadata["best_train_loss"] { line += ", best_train_loss \(l)" }
            print(line)
        }
    }

    /// `moemae weights info FILE`
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "info",
            abstract: "Show the preset, parameter count and tensor list of a weights file (.safetensors) or checkpoint (.pth).",
            discussion: """
            The preset (S, XS, XXS, or custom) is inferred from tensor shapes. Shared tensors — \
            each layer's V and W2 listed under every expert, and patch_embed.* = \
            encoder.patch_proj.* — are counted once.
            """
        )

        @Argument(help: "A .safetensors weights file or a torch.save checkpoint.")
        var file: String

        @Flag(help: "Omit the tensor list.")
        var summary = false

        func run() throws {
            let inventory = try TensorInventory(path: file)
            print(render(inventory, tensors: !summary), terminator: "")
        }
    }
}

/// The text `moemae weights info` prints.
private func render(_ inv: TensorInventory, tensors: Bool) -> String {
    var out = "file: \(inv.path)\n"
    switch inv.source {
    case let .safetensors(metadata):
        out += "format: safetensors\n"
        for k in metadata.keys.sorted() { out += "metadata.\(k): \(metadata[k]!)\n" }
    case let .checkpoint(epoch, loss, bare):
        out += "format: torch.save checkpoint (\(bare ? "bare state dict" : "training checkpoint"))\n"
        if let epoch { out += "epoch: \(epoch)\n" }
        if let loss { out += "best_train_loss: \(loss.isInfinite ? (loss < 0 ? "-inf" : "inf") : "\(loss)")\n" }
    }
    if let a = inv.architecture {
        out += "preset: \(a.preset ?? "custom")\n"
        out += "embed dim: \(a.embedDim)\n"
        out += "depth: \(a.depth)\n"
        out += "experts per layer: \(a.expertsPerLayer.map(String.init).joined(separator: ","))\n"
        out += "expert hidden: \(a.expertHidden.map(String.init).joined(separator: ","))\n"
        out += "key/value width: \(a.keyValueDim)"
        if let c = a.presetConfig { out += " (preset \(c.preset): \(c.heads) heads, \(c.kvGroups) KV groups)" }
        out += "\n"
        out += "decoder: " + (a.decoderDepth > 0 ? "\(a.decoderDepth) blocks, dim \(a.decoderDim.map(String.init) ?? "?")" : "none") + "\n"
    } else {
        out += "preset: unknown (no encoder.pos_embed tensor)\n"
    }
    let aliases = inv.items.filter { $0.sharedWith != nil }.count
    out += "parameters: \(formatCount(inv.parameterCount)) (shared tensors counted once)\n"
    out += "encoder parameters: \(formatCount(inv.encoderParameterCount))\n"
    out += "tensors: \(inv.items.count) (\(aliases) aliases of shared tensors)\n"
    if tensors {
        let width = inv.items.map(\.name.count).max() ?? 0
        for item in inv.items {
            let name = item.name.padding(toLength: width, withPad: " ", startingAt: 0)
            let shared = item.sharedWith.map { "  = \($0)" } ?? ""
            out += "  \(name)  \(item.dtype.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0))  \(item.shape)\(shared)\n"
        }
    }
    return out
}

/// 2537562 → "2,537,562".
private func formatCount(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var groups: [Substring] = []
    var end = digits.endIndex
    while end > digits.startIndex {
        let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
        groups.insert(digits[start..<end], at: 0)
        end = start
    }
    return (n < 0 ? "-" : "") + groups.joined(separator: ",")
}

/// `weights import` given a file that already is safetensors: one line, exit 1.
struct AlreadySafeTensors: Error, CustomStringConvertible {
    let path: String
    var description: String {
        "\(path): already a safetensors file, nothing to import; pass it to --weights as it is (`moemae weights info \(path)` shows what it holds)"
    }
}
