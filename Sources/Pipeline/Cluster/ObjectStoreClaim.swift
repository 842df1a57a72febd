import Foundation
import GeoRaster

/// A claim a task holds on one scene while it maps it: ``SceneClaim`` on a POSIX/NFS output folder,
/// ``ObjectStoreClaim`` on an `s3://` output prefix.
public protocol HeldSceneClaim: AnyObject, Sendable {
    /// The claim file or object (for messages).
    var path: String { get }
    /// True while the claim still names this owner.
    var isHeld: Bool { get }
    /// Runs `handler` once when the heartbeat finds the claim taken over or removed.
    func onLost(_ handler: @escaping () -> Void)
    /// Removes the claim if it is still this owner's, and stops the heartbeat.
    func release()
}

extension SceneClaim: HeldSceneClaim {}

/// A per-scene claim on object storage (`s3://bucket/prefix/.moemae-claims/<product>.claim`), written and
/// read through GDAL's `/vsis3/` (``VirtualFileSystem``; no S3 client of our own).
///
/// GDAL 3.6's `/vsis3/` has neither an exclusive create nor a conditional PUT (`If-None-Match: *`), and
/// S3 has no rename, so the claim is **write, wait, read back**:
/// 1. read the claim object; if it names a live owner (its `Last-Modified`, refreshed by the owner's
///    heartbeat, is younger than ``staleAfter``) the scene is busy;
/// 2. otherwise (absent or stale) PUT our own claim (owner: host, pid, random token, task);
/// 3. wait ``settle`` seconds, then read it back: S3 is strongly read-after-write consistent (since
///    December 2020; MinIO and Ceph RGW too), so when two contenders both PUT, both read back the last
///    write and only its writer goes on; the other reports the scene `busy`.
///
/// **Race window.** Two contenders both win only if one of them reads "absent" (step 1) and its PUT
/// lands after the other has already read back its own token (step 3): that needs one task to stall
/// for longer than ``settle`` between its read and the end of its PUT (a few milliseconds normally).
/// The owner re-reads the claim at every heartbeat and before publishing (``isHeld``); a task that
/// finds another token stops the scene. If both still publish, both wrote the same bytes (the map is
/// deterministic for the same manifest line, weights and options) and every object appears whole (an
/// S3 PUT is atomic), the Item last: the cost is the duplicated compute, never a mixed or partial
/// scene. docs/scaling.md ("Claims on object storage").
public final class ObjectStoreClaim: HeldSceneClaim, @unchecked Sendable {
    public let path: String
    public let owner: SceneClaim.Owner
    public let heartbeatInterval: Double
    private let lock = NSLock()
    private var timer: DispatchSourceTimer?
    private var released = false
    private var lostHandler: (() -> Void)?

    public enum Outcome {
        case acquired(ObjectStoreClaim)
        case busy(SceneClaim.Owner?)
    }

    /// The claim object of `product` under the output prefix `url` (`s3://bucket/prefix`).
    public static func location(url: String, product: String) -> String {
        var u = url
        while u.hasSuffix("/") { u.removeLast() }
        return "\(u)/\(SceneClaim.folderName)/\(product).claim"
    }

    /// Tries to claim `product` under the output prefix `url`.
    /// - Parameters:
    ///   - staleAfter: seconds without heartbeat after which a claim is taken over (default 10 heartbeats);
    ///     measured against the object's `Last-Modified`, so the stale limit must exceed the clock skew
    ///     between this host and the store.
    ///   - settle: seconds between our PUT and the read-back that confirms ownership.
    /// - Throws: ``ClusterError`` naming the object when the store refuses the read or the write.
    public static func acquire(url: String, product: String, task: String, heartbeatInterval: Double = 30,
                               staleAfter: Double? = nil, settle: Double = 2) throws -> Outcome {
        let path = location(url: url, product: product)
        let stale = staleAfter ?? heartbeatInterval * 10
        let owner = SceneClaim.Owner(host: ProcessInfo.processInfo.hostName, pid: getpid(), token: UUID().uuidString, task: task,
                                     started: STACItem.rfc3339(Date()))
        if let current = try read(path), !isStale(current.owner, modified: current.modified, staleAfter: stale) {
            return .busy(current.owner)
        }
        try write(owner, to: path)
        if settle > 0 { usleep(useconds_t(settle * 1e6)) }
        let back = try read(path)
        guard back?.owner?.token == owner.token else { return .busy(back?.owner) }
        let claim = ObjectStoreClaim(path: path, owner: owner, heartbeatInterval: heartbeatInterval)
        claim.startHeartbeat()
        return .acquired(claim)
    }

    private init(path: String, owner: SceneClaim.Owner, heartbeatInterval: Double) {
        self.path = path; self.owner = owner; self.heartbeatInterval = heartbeatInterval
    }

    /// The claim's owner (nil when the object does not parse) and its `Last-Modified` (seconds since
    /// 1970), or nil when there is no claim object.
    static func read(_ path: String) throws -> (owner: SceneClaim.Owner?, modified: Int64)? {
        VirtualFileSystem.forgetCached(path)
        do {
            guard let status = try VirtualFileSystem.status(path) else { return nil }
            let data = try VirtualFileSystem.read(path, limit: 1 << 16)
            return (owner: try? JSONDecoder().decode(SceneClaim.Owner.self, from: data), modified: status.modified)
        } catch let e as GeoRasterError {
            // Deleted between the HEAD and the GET: no claim.
            if (try? VirtualFileSystem.status(path)) == .some(nil) { return nil }
            throw ClusterError(path: RemoteLocation.displayURL(path), "cannot read the scene claim: \(e)")
        }
    }

    /// PUT of the owner as the claim object (through a local temporary file: GDAL uploads files).
    static func write(_ owner: SceneClaim.Owner, to path: String) throws {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        let local = (NSTemporaryDirectory() as NSString).appendingPathComponent("moemae-claim-\(owner.token)-\(UUID().uuidString)")
        defer { unlink(local) }
        do {
            try e.encode(owner).write(to: URL(fileURLWithPath: local))
            try VirtualFileSystem.upload(file: local, to: path)
        } catch {
            throw ClusterError(path: RemoteLocation.displayURL(path), "cannot write the scene claim: \(error)")
        }
        VirtualFileSystem.forgetCached(path)
    }

    /// Stale: `Last-Modified` older than `staleAfter` seconds, or (same host) the owner's pid is gone.
    static func isStale(_ owner: SceneClaim.Owner?, modified: Int64, staleAfter: Double) -> Bool {
        if modified > 0 && Date().timeIntervalSince1970 - Double(modified) > staleAfter { return true }
        if let owner, owner.host == ProcessInfo.processInfo.hostName, owner.pid != getpid(), kill(owner.pid, 0) != 0, errno == ESRCH {
            return true
        }
        return false
    }

    public func onLost(_ handler: @escaping () -> Void) { lock.lock(); lostHandler = handler; lock.unlock() }

    /// Re-reads the claim object (one HEAD and one GET); false when it names another owner or is gone.
    public var isHeld: Bool { ((try? Self.read(path)) ?? nil)?.owner?.token == owner.token }

    private func startHeartbeat() {
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        t.schedule(deadline: .now() + heartbeatInterval, repeating: heartbeatInterval)
        t.setEventHandler { [weak self] in self?.beat() }
        timer = t
        t.resume()
    }

    /// Heartbeat: re-read the claim; still ours → PUT it again (a fresh `Last-Modified`); else lost.
    /// A store that cannot be reached for one beat is not a loss (the stale limit is 10 beats).
    private func beat() {
        lock.lock(); defer { lock.unlock() }
        guard !released else { return }
        let current: (owner: SceneClaim.Owner?, modified: Int64)?
        do { current = try Self.read(path) } catch { return }
        if current?.owner?.token != owner.token {
            let h = lostHandler; lostHandler = nil
            h?()
            return
        }
        try? Self.write(owner, to: path)
    }

    public func release() {
        lock.lock(); defer { lock.unlock() }
        guard !released else { return }
        released = true
        lostHandler = nil
        timer?.cancel(); timer = nil
        if ((try? Self.read(path)) ?? nil)?.owner?.token == owner.token { VirtualFileSystem.remove(path) }
        VirtualFileSystem.forgetCached(path)
    }

    deinit { timer?.cancel() }
}
