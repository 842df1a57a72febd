import Dispatch
import Foundation

/// Turns SIGINT (Ctrl-C) and SIGTERM into a cancellation of a run, for as long as it is alive.
///
/// The signals are first set to `SIG_IGN` so the default action (terminate at once) does not run, then
/// observed with `DispatchSource.makeSignalSource` (the documented way to handle signals with Dispatch:
/// the source still sees ignored signals). The first signal cancels the token; every stage stops at
/// its next queue operation, temporary outputs are removed and the command exits non-zero. A second
/// signal restores the default action and re-raises it, so a user can always force quit; even then no
/// file has a final name, because outputs are renamed only after a run completes.
public final class SignalCancellation: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let signals: [Int32]
    private let lock = NSLock()
    private var received = 0

    /// Starts observing `signals` and cancels `token` on the first one.
    public init(token: CancellationToken, signals: [Int32] = [SIGINT, SIGTERM]) {
        self.signals = signals
        let queue = DispatchQueue(label: "moemae.pipeline.signals")
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock(); self.received += 1; let n = self.received; self.lock.unlock()
                if n == 1 {
                    token.cancel(.signal(sig))
                } else {
                    signal(sig, SIG_DFL)
                    raise(sig)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Stops observing and restores the default signal actions.
    public func stop() {
        lock.lock(); let toCancel = sources; sources.removeAll(); lock.unlock()
        for source in toCancel { source.cancel() }
        for sig in signals { signal(sig, SIG_DFL) }
    }

    deinit { stop() }
}
