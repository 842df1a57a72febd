import Foundation

/// The first SIGINT/SIGTERM received while ``InterruptSignals`` is installed (0: none).
/// Written only by the signal handler; a plain integer store is async-signal-safe.
nonisolated(unsafe) private var receivedSignal: Int32 = 0

/// Ctrl-C (SIGINT) and SIGTERM as a flag that a long-running command polls between units of work, so
/// it can stop, remove its temporary output and exit with 128 + the signal number.
///
/// A `sigaction` handler (POSIX signal(7): setting a flag is async-signal-safe) rather than a Dispatch
/// signal source: on Linux, libdispatch reads signals through `signalfd`, which only sees a signal
/// that every thread blocks; an ignored signal delivered to another thread is lost. A second signal
/// restores the default action and re-raises it, so a user can always force quit (even then no output
/// has its final name: outputs are renamed only when complete).
enum InterruptSignals {
    static let handled: [Int32] = [SIGINT, SIGTERM]

    /// Installs the handler for SIGINT and SIGTERM.
    static func install() {
        receivedSignal = 0
        let handler: @convention(c) (Int32) -> Void = { sig in
            if receivedSignal != 0 {
                signal(sig, SIG_DFL)
                raise(sig)
                return
            }
            receivedSignal = sig
        }
        for sig in handled { signal(sig, handler) }
    }

    /// Restores the default actions.
    static func restore() {
        for sig in handled { signal(sig, SIG_DFL) }
    }

    /// The signal received since ``install()``, if any.
    static var received: Int32? { receivedSignal == 0 ? nil : receivedSignal }

    /// "SIGINT" / "SIGTERM".
    static func name(_ sig: Int32) -> String { sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal \(sig)" }
}
