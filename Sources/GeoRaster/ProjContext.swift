import CPROJ

/// Owns a PROJ threading context (`PJ_CONTEXT`, proj.h) and collects PROJ's log messages for errors.
///
/// PROJ objects may only be used on the thread whose context created them (PROJ docs, "Threads"):
/// create one context per thread and never share it (the type is deliberately not `Sendable`).
public final class ProjContext {
    let handle: OpaquePointer
    /// PROJ's error messages since the last ``takeMessages()``.
    private(set) var messages: [String] = []

    public init() {
        handle = proj_context_create()
        proj_log_level(handle, PJ_LOG_ERROR)
        proj_log_func(handle, Unmanaged.passUnretained(self).toOpaque()) { userData, _, message in
            guard let userData, let message else { return }
            let context = Unmanaged<ProjContext>.fromOpaque(userData).takeUnretainedValue()
            context.messages.append(String(cString: message))
        }
    }

    deinit { proj_context_destroy(handle) }

    /// Returns and clears the collected log messages, plus the text of the context's current error
    /// number (`proj_context_errno_string`) when one is set.
    func takeMessages() -> [String] {
        var out = messages
        messages.removeAll()
        let code = proj_context_errno(handle)
        if code != 0, out.isEmpty, let s = proj_context_errno_string(handle, code) {
            let text = String(cString: s)
            if !out.contains(text) { out.append(text) }
        }
        return out
    }

    func resetErrors() {
        messages.removeAll()
    }
}

@available(*, unavailable, message: "PROJ contexts must not be shared across threads; create one per thread")
extension ProjContext: Sendable {}
