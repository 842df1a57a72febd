import Foundation
import XCTest

/// The Slurm recipe (deploy/slurm/) on a real single-node Slurm cluster that the test starts on
/// 127.0.0.1 (scripts/slurm-local.sh: Debian's slurm-wlm and munge, configuration
/// deploy/slurm/local/slurm.conf.in) and stops after, by pid.
final class ClusterSlurmTests: ClusterTestCase {
    var run = ""
    var slurmConf = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard geteuid() == 0 || (try? runProcess("/usr/bin/sudo", ["-n", "true"]).status) == 0 else {
            throw XCTSkip("starting munged, slurmctld and slurmd needs root")
        }
        run = dir + "/slurm"
        let status = Self.spawnAndWait("\(repositoryRoot)/scripts/slurm-local.sh", ["start", run], log: dir + "/slurm-start.log")
        guard status == 0 else {
            return XCTFail("the local Slurm cluster did not start (\(status)): \((try? String(contentsOfFile: dir + "/slurm-start.log", encoding: .utf8)) ?? "")")
        }
        slurmConf = run + "/slurm.conf"
    }

    override func tearDown() {
        if !run.isEmpty { _ = Self.spawnAndWait("\(repositoryRoot)/scripts/slurm-local.sh", ["stop", run], log: dir + "/slurm-stop.log") }
        super.tearDown()
    }

    /// Runs `executable args…` with stdin from /dev/null and stdout + stderr into `log`, waiting with
    /// waitpid(2) itself: Foundation's Process did not notice this script exit once it had started the
    /// daemons (waitUntilExit hung with the script a zombie), so the cluster scripts bypass it.
    static func spawnAndWait(_ executable: String, _ args: [String], log: String) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + args).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, executable, &actions, nil, argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Runs a Slurm client command (sbatch, squeue, scancel) against the test cluster.
    func slurm(_ args: [String], env: [String: String] = [:], in folder: String? = nil) throws -> ProcessResult {
        var e = ["SLURM_CONF=\(slurmConf)"]
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { e.append("\(k)=\(v)") }
        return try runProcess("/usr/bin/env", e + args, in: folder)
    }

    /// Waits until `job` (all its array tasks) left the queue.
    func waitForJob(_ job: String, seconds: Double = 300) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let q = try slurm(["squeue", "-h", "-j", job, "-o", "%i %T"])
            if q.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            sleep(1)
        }
        XCTFail("job \(job) still queued after \(seconds) s: \(try slurm(["squeue"]).stdout)")
    }

    /// The array recipe over six scenes in three tasks, one task failing by an injected fault: gather
    /// lists exactly that task's scenes with the sbatch command that maps exactly those; running it
    /// completes the set; the rasters are byte-identical to a single-process map of the same manifest;
    /// no scene was published twice; the Collection validates; the dependent gather job never ran.
    func testSlurmArrayWithAFailingTaskResubmitsExactlyItsScenes() throws {
        guard let binary = moemaeBinary else { throw XCTSkip("moemae binary not built") }
        let ids = try planSix()
        let out = dir + "/maps"
        // The injected fault: array task 1 dies before mapping anything (as a node failure would).
        let faulty = dir + "/moemae-faulty"
        try """
        #!/bin/sh
        if [ "$SLURM_ARRAY_TASK_ID" = 1 ]; then echo "injected fault: array task 1 fails" >&2; exit 42; fi
        exec \(binary) "$@"
        """.write(toFile: faulty, atomically: true, encoding: .utf8)
        chmod(faulty, 0o755)

        let submit = try slurm(["\(repositoryRoot)/deploy/slurm/submit.sh", dir + "/manifest.jsonl", out, "3", Self.weights, Self.probe,
                                "--cpus-per-task=2"], env: ["MOEMAE": faulty], in: dir)
        XCTAssertEqual(submit.status, 0, submit.stderr)
        let jobs = submit.stdout.components(separatedBy: CharacterSet.decimalDigits.inverted).filter { !$0.isEmpty }
        guard jobs.count >= 3 else { return XCTFail("submit.sh printed no job ids: \(submit.stdout)") }
        let (mapJob, gatherJob) = (jobs[0], jobs[2])
        try waitForJob(mapJob)
        // afterok: the gather job cannot run after a failed task.
        let reason = try slurm(["squeue", "-h", "-j", gatherJob, "-o", "%r"]).stdout
        XCTAssertTrue(reason.contains("DependencyNeverSatisfied") || reason.contains("Dependency"), reason)
        _ = try slurm(["scancel", gatherJob])
        let logs = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("moemae-map-") }.sorted()
        XCTAssertEqual(logs.count, 3, "three array tasks ran")
        let task0 = try String(contentsOfFile: dir + "/" + logs[0], encoding: .utf8)
        XCTAssertTrue(task0.contains("SLURM_ARRAY_TASK_ID=0 - SLURM_ARRAY_TASK_MIN=0 of SLURM_ARRAY_TASK_COUNT=3"), task0)

        // Equal estimated tiles: lines go round-robin, so task 1 had lines 1 and 4.
        let g = try moemae(["gather", out, "--manifest", dir + "/manifest.jsonl",
                            "--slurm-script", "\(repositoryRoot)/deploy/slurm/map-array.sbatch"])
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertTrue(g.stdout.contains("missing: 2 lines: 1,4"), g.stdout)
        guard let line = g.stdout.split(separator: "\n").first(where: { $0.contains("resubmit (slurm): ") }) else {
            return XCTFail("no sbatch command in \(g.stdout)")
        }
        let command = String(line.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces)
        XCTAssertEqual(command, "sbatch --array=1,4 --export=ALL,MOEMAE_BY_LINE=1 \(repositoryRoot)/deploy/slurm/map-array.sbatch")

        // Resubmit exactly that command (real binary now), with the same job environment as submit.sh.
        let env = ["MOEMAE": binary, "MOEMAE_MANIFEST": dir + "/manifest.jsonl", "MOEMAE_OUT": out,
                   "MOEMAE_WEIGHTS": Self.weights, "MOEMAE_PROBE": Self.probe]
        let again = try slurm(["/bin/sh", "-c", command.replacingOccurrences(of: "sbatch ", with: "sbatch --parsable ")], env: env, in: dir)
        XCTAssertEqual(again.status, 0, again.stderr)
        try waitForJob(again.stdout.trimmingCharacters(in: .whitespacesAndNewlines))

        let complete = try moemae(["gather", out, "--manifest", dir + "/manifest.jsonl"])
        XCTAssertEqual(complete.status, 0, complete.stderr)
        XCTAssertTrue(complete.stdout.contains("missing: none"), complete.stdout)
        XCTAssertEqual(try validateCollection(out + "/collection.json"), "ok 6 items")
        // Exactly once: tasks 0 and 2 and the two by-line tasks each published their own scenes.
        XCTAssertEqual(try mappedCounts(out), Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("run-summary-") }.sorted(),
                       ["run-summary-0-of-3.json", "run-summary-2-of-3.json", "run-summary-line-1.json", "run-summary-line-4.json"])

        // Byte-identical rasters to one process mapping the whole manifest.
        let single = try moemae(mapArgs(dir + "/single"))
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertEqual(try rasterHashes(out), try rasterHashes(dir + "/single"))
    }
}
