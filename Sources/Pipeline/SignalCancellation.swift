import CSignals
import Foundation

/// Turns SIGINT (Ctrl-C) and SIGTERM into a cancellation of a run, for as long as it is alive. Every
/// long-running command (`tile`, `map`, `run`, `pretrain`) uses this one mechanism.
///
/// The handler is a `sigaction` handler written in C (``CSignals``): it only stores the signal in an
/// atomic and writes it to a self-pipe (async-signal-safe, POSIX.1-2017 XSH 2.4.3). A watcher thread
/// blocked on the pipe cancels the registered tokens (a ``CancellationToken`` runs arbitrary Swift,
/// which a signal handler must not). Not a `DispatchSource` signal source: on Linux libdispatch reads
/// signals through `signalfd`, which only receives a signal that every thread blocks, so a signal
/// delivered to a thread that does not block it (GDAL's, OpenBLAS's, Foundation's own) can be lost.
///
/// The first signal cancels the tokens: every stage stops at its next queue operation, temporary
/// outputs are removed and the command exits with 128 + the signal number (130 for SIGINT, 143 for
/// SIGTERM). Repeats within ``graceSeconds`` of the first are the same request (a burst: a terminal and a
/// parent process both forwarding one Ctrl-C, `kill` sent to a process group). A repeat after that
/// restores the default action and re-raises the signal, so a user can always force quit; even then no
/// file has a final name, because outputs are renamed only after they are complete.
///
/// Instances may overlap (nested commands): the handler stays installed while any is alive, and the
/// default actions in force before the first are restored when the last one stops.
public final class SignalCancellation: @unchecked Sendable {
    /// Seconds after the first signal during which repeats are taken as the same request.
    public static let graceSeconds = 1.0

    /// Serialises install/uninstall (start and stop of the watcher thread).
    private static let lifecycle = NSLock()
    /// Guards ``registered``; the only lock the watcher takes.
    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var registered: [ObjectIdentifier: CancellationToken] = [:]
    nonisolated(unsafe) private static var watcherDone: DispatchSemaphore?

    private let token: CancellationToken
    private var active = true

    /// Starts observing SIGINT and SIGTERM and cancels `token` with ``CancellationReason/signal(_:)`` on
    /// the first one (at once if one was already received while another instance was alive).
    public init(token: CancellationToken) {
        self.token = token
        Self.lifecycle.lock()
        Self.registryLock.lock()
        let first = Self.registered.isEmpty
        Self.registered[ObjectIdentifier(self)] = token
        Self.registryLock.unlock()
        if first { Self.install() }
        Self.lifecycle.unlock()
        let already = moemae_interrupts_received()
        if already != 0 { token.cancel(.signal(already)) }
    }

    /// The first signal received while an instance is alive, if any.
    public static var received: Int32? {
        let s = moemae_interrupts_received()
        return s == 0 ? nil : s
    }

    /// Stops observing; the last instance to stop restores the previous signal actions. Idempotent.
    public func stop() {
        Self.lifecycle.lock()
        defer { Self.lifecycle.unlock() }
        guard active else { return }
        active = false
        Self.registryLock.lock()
        Self.registered[ObjectIdentifier(self)] = nil
        let last = Self.registered.isEmpty
        Self.registryLock.unlock()
        if last { Self.uninstall() }
    }

    deinit { stop() }

    /// Installs the C handler and starts the watcher thread (caller holds ``lifecycle``).
    private static func install() {
        guard moemae_interrupts_install(graceSeconds) == 0 else {
            let reason = String(cString: strerror(errno))
            FileHandle.standardError.write(Data("warning: cannot install the SIGINT/SIGTERM handler (\(reason)); Ctrl-C will stop the run without removing its temporary files\n".utf8))
            return
        }
        let done = DispatchSemaphore(value: 0)
        watcherDone = done
        let watcher = Thread {
            // 0: woken by uninstall; -1: the pipe failed (cannot happen with a valid descriptor).
            while true {
                let s = moemae_interrupts_wait()
                guard s > 0 else { break }
                deliver(s)
            }
            done.signal()
        }
        watcher.name = "moemae.signals"
        watcher.start()
    }

    /// Restores the previous actions, waits for the watcher to return and closes the pipe (caller holds ``lifecycle``).
    private static func uninstall() {
        guard let done = watcherDone else { return }
        moemae_interrupts_uninstall()
        done.wait()
        moemae_interrupts_close()
        watcherDone = nil
    }

    /// Cancels every registered token (on the watcher thread).
    private static func deliver(_ signal: Int32) {
        registryLock.lock()
        let tokens = Array(registered.values)
        registryLock.unlock()
        for token in tokens { token.cancel(.signal(signal)) }
    }
}
