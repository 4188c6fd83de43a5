// Promise bookkeeping shared by every aiocpp coroutine: the async stack and the
// trampoline used where symmetric transfer is not a tail call (not user API).
#pragma once

#include <atomic>
#include <coroutine>
#include <exception>
#include <source_location>

#include "aio/config.hpp"
#include "aio/detail/frame_alloc.hpp"

namespace aio::detail {

#if defined(__cpp_lib_source_location)
using SourceLocation = std::source_location;
#else
/// std::source_location for compilers whose library lacks it (clang < 15 with libstdc++):
/// the same interface from the builtins those compilers do have.
struct SourceLocation {
    static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                            const char* function = __builtin_FUNCTION(),
                                            unsigned line = __builtin_LINE()) noexcept {
        SourceLocation loc;
        loc.file_ = file;
        loc.function_ = function;
        loc.line_ = line;
        return loc;
    }
    [[nodiscard]] constexpr const char* file_name() const noexcept { return file_; }
    [[nodiscard]] constexpr const char* function_name() const noexcept { return function_; }
    [[nodiscard]] constexpr unsigned line() const noexcept { return line_; }
    const char* file_ = "";
    const char* function_ = "";
    unsigned line_ = 0;
};
#endif

class TaskBase;

/// The task whose step is running on this thread (asyncio.current_task()).
inline thread_local TaskBase* tl_current_task = nullptr;

/// Pending transfer when AIOCPP_TAIL_CALL_TRANSFER is 0: instead of resuming the next
/// coroutine from inside the previous one (growing the stack), the transfer is parked
/// here and the task step resumes it after the previous `resume()` returned.
inline thread_local std::coroutine_handle<> tl_trampoline{};

/// The value for await_suspend to return when handing control to `next`.
inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> next) noexcept {
#if AIOCPP_TAIL_CALL_TRANSFER
    return next;
#else
    tl_trampoline = next;
    return std::noop_coroutine();
#endif
}

/// Resumes `h` and then every transfer parked on the trampoline. Every place that
/// resumes a task's coroutine goes through here, so both transfer modes link together.
inline void resume_chain(std::coroutine_handle<> h) {
    h.resume();
    while (tl_trampoline) {
        std::coroutine_handle<> next = tl_trampoline;
        tl_trampoline = {};
        next.resume();
    }
}

/// Set once any loop runs in debug mode (or AIOCPP_DEBUG=1): turns on the checks that
/// sit on hot paths, such as handles copied on the wrong thread. One relaxed load when off.
inline std::atomic<bool> g_debug_checks{false};

/// Whether debug checks are on in this process (AIOCPP_DEBUG=1 or a debug loop ran).
inline bool debug_enabled() noexcept { return g_debug_checks.load(std::memory_order_relaxed); }

/// Reports a coroutine that was created and destroyed without ever running.
void report_never_awaited(const SourceLocation& where) noexcept;

/// First base of every aiocpp promise. The frame layout puts the promise right after the
/// resume/destroy pointers, so any of our handles can be viewed as a PromiseBase (the
/// promise types assert an alignment of at most 16 so that offset is the same for all).
struct PromiseBase {
    /// The awaiting coroutine: the parent link of the async stack. Set once the
    /// coroutine is started; a task's root, which has no parent, gets noop_coroutine().
    std::coroutine_handle<> continuation_{};
    std::exception_ptr error_{};
    /// The coroutine function (its name and line) from the promise's defaulted argument.
    SourceLocation where_;

    explicit PromiseBase(SourceLocation where) noexcept : where_(where) {}

    /// Awaited or made a task's root (a coroutine runs once). Kept in continuation_
    /// rather than a flag: a flag would cost 8 bytes of padding in every frame.
    [[nodiscard]] bool started() const noexcept { return static_cast<bool>(continuation_); }
    void start_as_task_root() noexcept { continuation_ = std::noop_coroutine(); }

    static PromiseBase& of(std::coroutine_handle<> h) noexcept {
        return std::coroutine_handle<PromiseBase>::from_address(h.address()).promise();
    }

    static void* operator new(std::size_t n) { return frame_alloc(n); }
    static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }
};

}  // namespace aio::detail
