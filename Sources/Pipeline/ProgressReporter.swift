import Dispatch
import Foundation

/// Progress of a run on stderr: tiles done / total, tiles per second and the estimated time left.
///
/// - ``Mode/bar``: a live bar redrawn in place (carriage return) a few times per second — used when
///   stderr is a terminal.
/// - ``Mode/lines``: one plain line every `lineInterval` seconds and one at the end — for logs and CI,
///   where carriage returns make a mess.
/// - ``Mode/quiet``: nothing (`--quiet`).
public final class ProgressReporter: @unchecked Sendable {
    public enum Mode: Equatable, Sendable { case bar, lines, quiet }

    /// ``Mode/quiet`` when `quiet`, else ``Mode/bar`` if stderr is a terminal (`isatty(2)`), else ``Mode/lines``.
    public static func mode(quiet: Bool) -> Mode {
        if quiet { return .quiet }
        return isatty(STDERR_FILENO) == 1 ? .bar : .lines
    }

    public let mode: Mode
    public let label: String
    private let output: (String) -> Void
    private let lock = NSLock()
    private var total: Int
    private var done = 0
    private var startNanos: UInt64 = 0
    private var timer: DispatchSourceTimer?
    private let interval: Double
    private var finished = false

    /// - Parameters:
    ///   - total: units expected (tiles); may be updated with ``setTotal(_:)``.
    ///   - label: prefix of every line (e.g. the scene's product id).
    ///   - lineInterval: seconds between plain lines (``Mode/lines``); the bar redraws every 0.2 s.
    ///   - output: where text goes; default stderr, unbuffered.
    public init(total: Int, label: String, mode: Mode, lineInterval: Double = 10,
                output: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.total = total; self.label = label; self.mode = mode; self.output = output
        self.interval = mode == .bar ? 0.2 : lineInterval
    }

    /// Starts the clock and the periodic output.
    public func start() {
        lock.lock(); startNanos = DispatchTime.now().uptimeNanoseconds; lock.unlock()
        guard mode != .quiet else { return }
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "moemae.progress"))
        t.schedule(deadline: .now() + interval, repeating: interval)
        t.setEventHandler { [weak self] in self?.emit(final: false) }
        t.resume()
        lock.lock(); timer = t; lock.unlock()
    }

    public func setTotal(_ n: Int) { lock.lock(); total = n; lock.unlock() }

    /// Adds `n` finished units (thread-safe).
    public func advance(by n: Int) { lock.lock(); done += n; lock.unlock() }

    /// Units done so far.
    public var completed: Int { lock.lock(); defer { lock.unlock() }; return done }

    /// Stops the periodic output and prints the final state (the bar ends its line).
    public func finish() {
        lock.lock()
        if finished { lock.unlock(); return }
        finished = true
        let t = timer; timer = nil
        lock.unlock()
        t?.cancel()
        emit(final: true)
    }

    private func emit(final: Bool) {
        lock.lock()
        let d = done, n = total
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - startNanos) / 1e9
        lock.unlock()
        switch mode {
        case .quiet: return
        case .bar: output("\r" + Self.barLine(label: label, done: d, total: n, elapsed: elapsed) + (final ? "\n" : ""))
        case .lines: output(Self.plainLine(label: label, done: d, total: n, elapsed: elapsed) + "\n")
        }
    }

    /// `label [#########.........] 1234/5000 tiles  345.6 tiles/s  ETA 0:11` (width 30 bar).
    public static func barLine(label: String, done: Int, total: Int, elapsed: Double, width: Int = 30) -> String {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return "\(label) [\(bar)] " + stats(done: done, total: total, elapsed: elapsed)
    }

    /// `label: 1234/5000 tiles (24.7%)  345.6 tiles/s  ETA 0:11`.
    public static func plainLine(label: String, done: Int, total: Int, elapsed: Double) -> String {
        let pct = total > 0 ? String(format: " (%.1f%%)", 100 * Double(done) / Double(total)) : ""
        return "\(label): \(done)/\(total) tiles\(pct)  " + rateAndETA(done: done, total: total, elapsed: elapsed)
    }

    static func stats(done: Int, total: Int, elapsed: Double) -> String {
        "\(done)/\(total) tiles  " + rateAndETA(done: done, total: total, elapsed: elapsed)
    }

    static func rateAndETA(done: Int, total: Int, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta: String
        if done >= total { eta = "done in " + duration(elapsed) }
        else if rate > 0 { eta = "ETA " + duration(Double(total - done) / rate) }
        else { eta = "ETA --:--" }
        return String(format: "%.1f tiles/s  ", rate) + eta
    }

    /// `m:ss` below an hour, `h:mm:ss` above.
    public static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        if s >= 3600 { return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) }
        return String(format: "%d:%02d", s / 60, s % 60)
    }
}
