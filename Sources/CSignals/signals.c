// See include/CSignals.h.
#define _GNU_SOURCE
#include "CSignals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const int handled[] = {SIGINT, SIGTERM};
enum { handled_count = sizeof handled / sizeof handled[0] };

static struct sigaction previous[handled_count];
static int pipe_read = -1;
static int pipe_write = -1;
static int installed = 0;                 // touched only by install/uninstall/close (never by the handler)
static _Atomic int first_signal = 0;      // written by the handler
static _Atomic long long first_ns = 0;    // monotonic time of the first signal (0: not yet stored)
static _Atomic long long grace_ns = 0;

static long long monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void force_quit(int sig) {
    static const char message[] = "\nmoemae: signalled again: quitting at once (unfinished outputs keep their temporary names)\n";
    ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
    (void)ignored;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);   // pending while this handler runs (the signal is blocked in its own handler), then fatal
}

static void handler(int sig) {
    int saved_errno = errno;
    long long now = monotonic_ns();
    int expected = 0;
    if (atomic_compare_exchange_strong(&first_signal, &expected, sig)) {
        atomic_store(&first_ns, now);
        unsigned char byte = (unsigned char)sig;
        ssize_t ignored = write(pipe_write, &byte, 1);   // non-blocking; the pipe is never full (one byte per install)
        (void)ignored;
    } else {
        long long t0 = atomic_load(&first_ns);
        // t0 == 0: the first signal's handler is still running on another thread — the same burst.
        if (t0 != 0 && now - t0 >= atomic_load(&grace_ns)) force_quit(sig);
    }
    errno = saved_errno;
}

int moemae_interrupts_install(double grace_seconds) {
    if (installed || pipe_read >= 0) { errno = EBUSY; return -1; }   // installed, or not yet closed
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    // Only the write end is non-blocking: the handler must never block; the watcher blocks on read.
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    pipe_read = fds[0];
    pipe_write = fds[1];
    atomic_store(&first_signal, 0);
    atomic_store(&first_ns, 0);
    atomic_store(&grace_ns, (long long)(grace_seconds * 1e9));

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    action.sa_flags = SA_RESTART;   // system calls interrupted by the signal resume (no stray EINTR in GDAL/BLAS)
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < handled_count; i++) sigaddset(&action.sa_mask, handled[i]);
    for (int i = 0; i < handled_count; i++) {
        if (sigaction(handled[i], &action, &previous[i]) != 0) {
            int e = errno;
            for (int j = 0; j < i; j++) sigaction(handled[j], &previous[j], NULL);
            close(pipe_read); close(pipe_write);
            pipe_read = pipe_write = -1;
            errno = e;
            return -1;
        }
    }
    installed = 1;
    return 0;
}

int moemae_interrupts_wait(void) {
    for (;;) {
        unsigned char byte;
        ssize_t n = read(pipe_read, &byte, 1);
        if (n == 1) return byte;
        if (n == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

int moemae_interrupts_received(void) { return atomic_load(&first_signal); }

void moemae_interrupts_uninstall(void) {
    if (!installed) return;
    for (int i = 0; i < handled_count; i++) sigaction(handled[i], &previous[i], NULL);
    installed = 0;
    unsigned char wake = 0;
    ssize_t ignored = write(pipe_write, &wake, 1);
    (void)ignored;
}

void moemae_interrupts_close(void) {
    if (installed) return;
    if (pipe_read >= 0) close(pipe_read);
    if (pipe_write >= 0) close(pipe_write);
    pipe_read = pipe_write = -1;
}
