// timeout, timeout_at, wait_for and current_deadline: deadlines as cancel scopes
// (asyncio's timeouts.py, CPython 3.13 logic).
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/loop.hpp"
#include "aio/task.hpp"

namespace aio {

namespace detail {
/// One entry of a task's scope stack: its deadline feeds current_deadline().
struct ScopeRecord {
    ScopeRecord* parent = nullptr;
    std::optional<Clock::time_point> deadline;
};
}  // namespace detail

/// The deadline scope of `timeout()`/`timeout_at()` (asyncio.Timeout).
///
/// States as in CPython: created → entered → (expiring → expired) | exited. When the
/// deadline passes the task is cancelled; on the way out the scope recognises its own
/// cancellation by the `cancelling()` count and turns it into TimeoutError, while a
/// cancel from outside stays CancelledError.
class Timeout {
public:
    explicit Timeout(std::optional<Clock::time_point> when) noexcept : when_(when) {}
    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;
    ~Timeout();

    /// The deadline, or nullopt for none.
    [[nodiscard]] std::optional<Clock::time_point> when() const noexcept { return when_; }
    /// Moves the deadline (nullopt removes it). Raises RuntimeError unless entered and
    /// not yet expired or exited.
    void reschedule(std::optional<Clock::time_point> when);
    /// True once the deadline fired.
    [[nodiscard]] bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }

    // Used by timeout()/wait_for (the `async with` protocol).
    void enter();
    /// Leaves the scope with the body's outcome (`error` null on success); raises
    /// TimeoutError when the scope's own cancellation is what ended the body.
    void exit(std::exception_ptr error);

private:
    enum class State : std::uint8_t { created, entered, expiring, expired, exited };
    void on_timeout() noexcept;

    std::optional<Clock::time_point> when_;
    // A loop callback, as asyncio's call_at handle: expiry runs in ready-queue order, so
    // a cancel() from another task at the same instant is seen as not ours.
    TimerHandle handle_;
    detail::TaskBase* task_ = nullptr;
    detail::ScopeRecord record_;
    int cancelling_ = 0;
    State state_ = State::created;
};

namespace detail {

template <class F>
decltype(auto) call_body(F& body, Timeout& t) {
    if constexpr (std::is_invocable_v<F&, Timeout&>) {
        return std::invoke(body, t);
    } else {
        return std::invoke(body);
    }
}

template <class F>
using body_result_t = std::remove_cvref_t<await_result_t<decltype(call_body(std::declval<F&>(), std::declval<Timeout&>()))>>;

template <class T, class Awaitable>
Coro<T> await_in_scope(Timeout& scope, Awaitable&& aw) {
    scope.enter();
    std::exception_ptr error;
    // A Coro is awaited as an rvalue; any other awaitable by name, as an lvalue: g++ 12
    // copies a non-name operand into the frame, and awaiters are not copyable.
    if constexpr (std::is_void_v<T>) {
        try {
            if constexpr (is_coro_v<Awaitable>) {
                co_await std::move(aw);
            } else {
                co_await aw;
            }
        } catch (...) {
            error = std::current_exception();
        }
        scope.exit(error);
    } else {
        std::optional<T> result;
        try {
            if constexpr (is_coro_v<Awaitable>) {
                result.emplace(co_await std::move(aw));
            } else {
                result.emplace(co_await aw);
            }
        } catch (...) {
            error = std::current_exception();
        }
        scope.exit(error);
        co_return std::move(*result);
    }
}

template <class F>
Coro<body_result_t<F>> timeout_at_impl(std::optional<Clock::time_point> when, F body) {
    // `body` is held by value in this frame until it finishes (DESIGN §3 "Lifetimes").
    Timeout scope(when);
    co_return co_await await_in_scope<body_result_t<F>>(scope, call_body(body, scope));
}

}  // namespace detail

/// Runs `body` (called as `body(aio::Timeout&)` or `body()`, returning a Coro) with a
/// deadline at `when` and returns its result (asyncio.timeout_at). `nullopt`: no deadline.
/// When the deadline passes the body is cancelled at its current await; once its cleanup
/// has run, TimeoutError is raised. An outside cancel() stays CancelledError.
/// Cancellation: Cancel-safe: the body is cancelled and its cleanup runs before
/// CancelledError or TimeoutError propagates.
/// Thread-safety: loop-affine.
template <class F>
[[nodiscard]] auto timeout_at(std::optional<Clock::time_point> when, F body) {
    return detail::timeout_at_impl(when, std::move(body));
}

/// timeout_at(now + delay, body) (asyncio.timeout); `nullopt` means no deadline.
/// Cancellation: Cancel-safe: the body is cancelled and its cleanup runs before
/// CancelledError or TimeoutError propagates.
/// Thread-safety: loop-affine.
template <class F>
[[nodiscard]] auto timeout(std::optional<Clock::duration> delay, F body) {
    std::optional<Clock::time_point> when;
    if (delay) when = get_running_loop().time() + *delay;
    return detail::timeout_at_impl(when, std::move(body));
}

namespace detail {
template <class T, class A>
Coro<T> wait_for_impl(A aw, std::optional<Clock::time_point> when) {
    Timeout scope(when);
    co_return co_await await_in_scope<T>(scope, std::move(aw));
}
}  // namespace detail

/// Awaits `aw` (a Coro or a Task) with a timeout (asyncio.wait_for): on timeout the
/// awaitable is cancelled, its cleanup has run, and TimeoutError is raised.
/// Cancellation: Cancel-safe: the awaitable is cancelled and awaited before
/// CancelledError propagates.
/// Thread-safety: loop-affine.
template <class A>
    requires(is_coro_v<A> || is_task_v<A>)
[[nodiscard]] auto wait_for(A aw, std::optional<Clock::duration> delay) {
    using T = std::remove_cvref_t<await_result_t<A>>;
    std::optional<Clock::time_point> when;
    if (delay) when = get_running_loop().time() + *delay;
    return detail::wait_for_impl<T>(std::move(aw), when);
}

/// The innermost effective deadline of the current task (the earliest of its enclosing
/// timeout scopes), or nullopt. Deadlines do not cross create_task() or shield().
[[nodiscard]] std::optional<Clock::time_point> current_deadline() noexcept;

}  // namespace aio
