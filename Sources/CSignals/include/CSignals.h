// CSignals: SIGINT/SIGTERM as a cancellation request, with a handler that only does async-signal-safe
// work (POSIX.1-2017 XSH 2.4.3: C11 lock-free atomics, clock_gettime, write, sigaction, raise).
// Swift cannot write this handler safely: a Swift global is initialised lazily on first use (not
// async-signal-safe) and a Swift closure that captures cannot be a C function pointer.
// Used by Sources/Pipeline/SignalCancellation.swift, the only caller.
#ifndef MOEMAE_CSIGNALS_H
#define MOEMAE_CSIGNALS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Installs the handler for SIGINT and SIGTERM (sigaction with SA_RESTART) and creates the self-pipe
/// the handler writes the signal number to. The first signal is recorded and written to the pipe.
/// A repeat within `grace_seconds` of the first is the same request (a burst: a terminal and a parent
/// both forwarding one Ctrl-C, a signal sent to a process group and to the process); a repeat after
/// that says so on stderr, restores the default action and re-raises the signal, so a user can
/// always force quit.
/// Returns 0, or -1 with errno set (EBUSY: already installed; else pipe(2)/sigaction(2) failed).
int moemae_interrupts_install(double grace_seconds);

/// Blocks until the handler reports a signal or ``moemae_interrupts_uninstall`` wakes the caller.
/// Returns the signal number, 0 when woken by uninstall, -1 on a read error other than EINTR.
/// Meant for one watcher thread.
int moemae_interrupts_wait(void);

/// The first signal received since install (0: none). Safe to call from any thread.
int moemae_interrupts_received(void);

/// Restores the signal actions in force before install and wakes the watcher (its wait returns 0).
void moemae_interrupts_uninstall(void);

/// Closes the self-pipe; call after the watcher has returned from its last wait.
/// Install may be called again afterwards.
void moemae_interrupts_close(void);

#ifdef __cplusplus
}
#endif

#endif
