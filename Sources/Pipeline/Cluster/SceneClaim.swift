import Foundation

/// A per-scene claim on a shared POSIX or NFS output folder: at most one process maps a scene at a time.
///
/// `<out>/.moemae-claims/<product>.claim` is created with `open(O_CREAT | O_EXCL)` — atomic on local
/// file systems and on NFSv3/v4 (exclusive create is part of the protocol). The file holds the owner
/// (host, pid, a random token, the task's shard). While the owner works, a heartbeat thread sets the
/// file's modification time every ``heartbeatInterval`` seconds and re-reads the token; a claim whose
/// token changed was taken over, and the owner's ``lost`` handler runs (the map of that scene is
/// cancelled before it publishes).
///
/// A claim is stale when its heartbeat is older than ``staleAfter`` (default 10 heartbeats, so clock
/// skew between NFS clients of a few seconds does not matter), or at once when it names this host and
/// a pid that no longer exists (a task killed with SIGKILL and re-run on the same node). A stale claim
/// is taken over by renaming it to a private name (only one contender's rename succeeds), checking that
/// the renamed file is still the stale one, then creating a fresh claim exclusively.
///
/// Object storage has no exclusive create through GDAL; the design for an S3 output prefix is in
/// docs/scaling.md ("Claims on object storage").
public final class SceneClaim: @unchecked Sendable {
    public static let folderName = ".moemae-claims"
    public let path: String
    public let owner: Owner
    public let heartbeatInterval: Double
    private let lock = NSLock()
    private var timer: DispatchSourceTimer?
    private var released = false
    private var lostHandler: (() -> Void)?

    public struct Owner: Codable, Equatable, Sendable {
        public var host: String
        public var pid: Int32
        public var token: String
        public var task: String
        public var started: String
    }

    /// What ``acquire(directory:product:task:heartbeatInterval:staleAfter:)`` found.
    public enum Outcome {
        case acquired(SceneClaim)
        /// Another live process holds the scene.
        case busy(Owner?)
    }

    /// Tries to claim `product` in `directory` (created if missing). Throws ``ClusterError`` when the
    /// claims folder cannot be created or written.
    public static func acquire(directory: String, product: String, task: String, heartbeatInterval: Double = 30,
                               staleAfter: Double? = nil) throws -> Outcome {
        let folder = (directory as NSString).appendingPathComponent(folderName)
        if !FileManager.default.fileExists(atPath: directory) { try OutputTransaction.makeDirectories(directory) }
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw ClusterError(path: folder, "cannot create the claims folder: \(String(cString: strerror(errno)))")
        }
        let path = (folder as NSString).appendingPathComponent("\(product).claim")
        let owner = Owner(host: ProcessInfo.processInfo.hostName, pid: getpid(), token: UUID().uuidString, task: task,
                          started: STACItem.rfc3339(Date()))
        let stale = staleAfter ?? heartbeatInterval * 10
        for _ in 0..<3 {
            if try create(path: path, owner: owner) {
                let claim = SceneClaim(path: path, owner: owner, heartbeatInterval: heartbeatInterval)
                claim.startHeartbeat()
                return .acquired(claim)
            }
            // Someone holds it: take it over only when stale.
            let current = read(path)
            guard isStale(path: path, owner: current, staleAfter: stale) else { return .busy(current) }
            let aside = path + ".stale-\(owner.token)"
            guard rename(path, aside) == 0 else { continue }   // another contender moved it first: try again
            let moved = read(aside)
            if moved?.token == current?.token {
                unlink(aside)   // it was the stale claim we judged: gone; create ours
            } else {
                // A fresh claim was created between our read and rename: put it back unless another
                // claim is there already (then that fresh owner's heartbeat notices it lost).
                if link(aside, path) == 0 { unlink(aside); return .busy(moved) }
                unlink(aside)
            }
        }
        return .busy(read(path))
    }

    private init(path: String, owner: Owner, heartbeatInterval: Double) {
        self.path = path; self.owner = owner; self.heartbeatInterval = heartbeatInterval
    }

    /// Exclusive create with the owner as content; false when the file exists.
    static func create(path: String, owner: Owner) throws -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw ClusterError(path: path, "cannot create the scene claim: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        let data = (try? e.encode(owner)) ?? Data()
        let ok = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) == $0.count }
        if !ok || fsync(fd) != 0 {
            unlink(path)
            throw ClusterError(path: path, "cannot write the scene claim: \(String(cString: strerror(errno)))")
        }
        return true
    }

    static func read(_ path: String) -> Owner? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(Owner.self, from: data)
    }

    /// Stale: heartbeat older than `staleAfter` seconds, or (same host) the owner's pid is gone. A claim
    /// file that cannot be parsed (its owner died between create and write) is stale after `staleAfter` too.
    static func isStale(path: String, owner: Owner?, staleAfter: Double) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return true }
        let age = Date().timeIntervalSince1970 - (Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        if age > staleAfter { return true }
        if let owner, owner.host == ProcessInfo.processInfo.hostName, kill(owner.pid, 0) != 0, errno == ESRCH { return true }
        return false
    }

    /// Runs `handler` (once, on the heartbeat thread) when the claim is found taken over or removed.
    public func onLost(_ handler: @escaping () -> Void) { lock.lock(); lostHandler = handler; lock.unlock() }

    /// True while the claim file still holds this owner's token.
    public var isHeld: Bool { SceneClaim.read(path)?.token == owner.token }

    private func startHeartbeat() {
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        t.schedule(deadline: .now() + heartbeatInterval, repeating: heartbeatInterval)
        t.setEventHandler { [weak self] in self?.beat() }
        timer = t
        t.resume()
    }

    private func beat() {
        lock.lock(); defer { lock.unlock() }
        guard !released else { return }
        if SceneClaim.read(path)?.token != owner.token {
            let h = lostHandler; lostHandler = nil
            h?()
            return
        }
        utimes(path, nil)   // "now": the heartbeat
    }

    /// Removes the claim (only if it is still ours) and stops the heartbeat.
    public func release() {
        lock.lock(); defer { lock.unlock() }
        guard !released else { return }
        released = true
        lostHandler = nil
        timer?.cancel(); timer = nil
        if SceneClaim.read(path)?.token == owner.token { unlink(path) }
    }

    deinit { timer?.cancel() }
}
