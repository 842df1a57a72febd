import ArgumentParser
import Foundation
import Diagnostics
import Pipeline

/// `moemae map --manifest M [--shard I/N | --index K | --lines L] [--shard-count N]`: one array task.
struct ClusterOptions: ParsableArguments {
    @Option(name: .long, help: "Map this task's lines of a scene manifest (moemae plan) instead of SCENE arguments.")
    var manifest: String?

    @Option(name: .long, help: "This task's shard I/N (0-based). Default: from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX.")
    var shard: String?

    @Option(name: .long, help: "Number of shards N when the engine does not say it (Kubernetes: the Job's completions).")
    var shardCount: Int?

    @Option(name: .long, help: "Map exactly manifest line K (0-based).")
    var index: Int?

    @Option(name: .long, help: "Only these manifest lines (e.g. 3,17,20-25), split into shards as usual: a resubmission.")
    var lines: String?

    var isGiven: Bool { shard != nil || shardCount != nil || index != nil || lines != nil }

    /// Runs the task; exits 1 when any of its scenes failed (listed in its run summary).
    func execute(manifest: String, base: MapOptions) throws {
        signal(SIGXFSZ, SIG_IGN)
        let selection = try ShardSelection.resolve(shard: shard, shardCount: shardCount, index: index,
                                                   environment: ProcessInfo.processInfo.environment)
        let restricted = try lines.map(ShardPlan.parseLines)
        let token = CancellationToken()
        let signals = SignalCancellation(token: token)
        defer { signals.stop() }
        let note: (Notice) -> Void = Advice.print
        let outcome = try ClusterMapJob.run(manifestPath: manifest, selection: selection, lines: restricted, base: base,
                                            moemaeVersion: MoEMAECommand.configuration.version, cancellation: token, note: note)
        let s = outcome.summary
        let count = { (status: String) in s.scenes.filter { $0.status == status }.count }
        print("\(selection): \(count("mapped")) mapped, \(count("complete")) already complete, \(count("busy")) held by other tasks, \(s.failed) failed")
        print("run summary: \(outcome.summaryPath)")
        if let reason = token.reason, case .signal(let sig) = reason {
            FileHandle.standardError.write(Data("error: \(reason); finished scenes keep their outputs, run the task again to continue\n".utf8))
            throw ExitCode(128 + sig)
        }
        if s.failed > 0 {
            throw CommandFailure("\(s.failed) of \(s.scenes.count) scenes of \(selection) failed (see \(outcome.summaryPath))")
        }
    }
}
