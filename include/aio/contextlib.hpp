// async_with, AsyncExitStack, finally and shielded: asynchronous cleanup that runs on
// every path (contextlib's `async with`, AsyncExitStack, and Trio's shielded scope).
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/task_base.hpp"

namespace aio {

/// An async context manager: `aenter()` returns an awaitable (its value is what the body
/// receives), `aexit(std::exception_ptr)` returns an awaitable of bool — true suppresses
/// the exception, as `__aexit__` returning True does.
template <class R>
concept AsyncContextManager = requires(R& r, std::exception_ptr e) {
    r.aenter();
    r.aexit(e);
};

namespace detail {

template <class F>
using callable_result_t = std::remove_cvref_t<await_result_t<std::invoke_result_t<F&>>>;

/// A body's outcome kept for later: its value, or the exception it raised.
template <class T>
struct Captured {
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> value;
    T get() {
        if (error) std::rethrow_exception(error);
        if constexpr (!std::is_void_v<T>) return std::move(*value);
    }
};

/// Runs `body()` to completion in the current task and captures how it ended, so the
/// caller can await cleanup before rethrowing (C++ cannot co_await in a catch block).
template <class F>
Coro<Captured<callable_result_t<F>>> capture(F& body) {
    Captured<callable_result_t<F>> out;
    try {
        if constexpr (std::is_void_v<callable_result_t<F>>) {
            co_await std::invoke(body);
            out.value.emplace(true);
        } else {
            out.value.emplace(co_await std::invoke(body));
        }
    } catch (...) {
        out.error = std::current_exception();
    }
    co_return out;
}

template <class F>
Coro<callable_result_t<F>> shielded_impl(F body) {
    TaskBase& task = running_task("aio::shielded()");
    const bool was = task.set_shielded(true);
    auto outcome = co_await capture(body);
    task.set_shielded(was);
    co_return outcome.get();
}

template <class B, class C>
Coro<callable_result_t<B>> finally_impl(B body, C cleanup) {
    auto outcome = co_await capture(body);
    // The cleanup is shielded: a second cancel cannot interrupt it half-way.
    co_await shielded_impl(std::ref(cleanup));
    co_return outcome.get();
}

template <class R, class F>
auto async_with_impl(R& resource, F body)
    -> Coro<std::remove_cvref_t<await_result_t<std::invoke_result_t<F&, std::remove_cvref_t<await_result_t<decltype(resource.aenter())>>&>>>> {
    using Entered = std::remove_cvref_t<await_result_t<decltype(resource.aenter())>>;
    Entered entered = co_await resource.aenter();
    auto call = [&] { return std::invoke(body, entered); };
    auto outcome = co_await capture(call);
    const bool suppress = co_await resource.aexit(outcome.error);
    if (outcome.error && suppress && !is_cancelled(outcome.error)) {
        if constexpr (std::is_void_v<decltype(outcome.get())>) {
            co_return;
        } else {
            throw RuntimeError("RuntimeError: async_with suppressed an exception of a body that returns a value");
        }
    }
    co_return outcome.get();
}

}  // namespace detail

/// Runs `body()` (returning a Coro) with cancellation deferred until it finishes, in the
/// same task (Trio's shielded cancel scope): a cancel() meanwhile is counted and raised
/// at the first suspending await after it. For cleanup after a cancellation — rolling
/// back, closing, returning a connection. Timeouts around or inside the body are
/// deferred too, so keep shielded bodies short and bounded.
/// Cancellation: Not cancel-safe by design: the body always runs to completion.
/// Thread-safety: loop-affine.
template <class F>
[[nodiscard]] auto shielded(F body) {
    return detail::shielded_impl(std::move(body));
}

/// Runs `body()`, then `cleanup()` on every path — success, error, cancellation — with
/// the cleanup shielded; rethrows the body's exception (try/finally with an awaited
/// finally block, which C++ cannot write directly).
/// Cancellation: Cancel-safe: the cleanup runs to completion before CancelledError propagates.
/// Thread-safety: loop-affine.
template <class B, class C>
[[nodiscard]] auto finally(B body, C cleanup) {
    return detail::finally_impl(std::move(body), std::move(cleanup));
}

/// `async with resource as r:` — awaits `resource.aenter()`, runs `body(r)`, and awaits
/// `resource.aexit(exception)` on every path. An exception is suppressed if aexit
/// returns true (a cancellation never is).
/// Cancellation: Cancel-safe: aexit is awaited before CancelledError propagates.
/// Thread-safety: loop-affine.
template <AsyncContextManager R, class F>
[[nodiscard]] auto async_with(R& resource, F body) {
    return detail::async_with_impl(resource, std::move(body));
}

/// Several async context managers and cleanup callbacks exited together in reverse
/// order (contextlib.AsyncExitStack). Itself an async context manager.
/// Thread-safety: loop-affine.
class AsyncExitStack {
public:
    AsyncExitStack() = default;
    AsyncExitStack(const AsyncExitStack&) = delete;
    AsyncExitStack& operator=(const AsyncExitStack&) = delete;

    /// Awaits `resource.aenter()` and schedules its aexit; returns what aenter returned.
    /// Cancellation: Cancel-safe: if aenter is cancelled, nothing is registered.
    template <AsyncContextManager R>
    [[nodiscard]] auto enter_async_context(R& resource) -> Coro<std::remove_cvref_t<await_result_t<decltype(resource.aenter())>>> {
        auto entered = co_await resource.aenter();
        exits_.push_back([&resource](std::exception_ptr e) -> Coro<bool> { co_return co_await resource.aexit(e); });
        co_return entered;
    }

    /// Schedules `fn()` (returning a Coro) to be awaited at exit.
    template <class F>
    void push_async_callback(F fn) {
        exits_.push_back([fn = std::move(fn)](std::exception_ptr) mutable -> Coro<bool> {
            co_await std::invoke(fn);
            co_return false;
        });
    }

    /// Exits everything now, last in first out.
    /// Cancellation: Cancel-safe: every exit is awaited; the first error is raised after.
    [[nodiscard]] Coro<> aclose() { co_await aexit(nullptr); }

    /// The async context manager protocol, for async_with(stack, …): returns the stack.
    /// Cancellation: Cancel-safe: it does not suspend.
    [[nodiscard]] Coro<AsyncExitStack*> aenter() { co_return this; }
    /// Cancellation: Cancel-safe: every exit is awaited before the exception propagates.
    [[nodiscard]] Coro<bool> aexit(std::exception_ptr error) {
        // Each exit sees the exception left by the ones after it, as in contextlib.
        std::exception_ptr current = error;
        bool suppressed = false;
        while (!exits_.empty()) {
            auto exit = std::move(exits_.back());
            exits_.pop_back();
            std::exception_ptr raised;
            bool handled = false;
            try {
                handled = co_await exit(current);
            } catch (...) {
                raised = std::current_exception();
            }
            if (raised) {
                current = raised;
                suppressed = false;
            } else if (handled && current && !is_cancelled(current)) {
                current = nullptr;
                suppressed = true;
            }
        }
        if (current && current != error) std::rethrow_exception(current);
        co_return suppressed && !current;
    }

private:
    std::vector<std::function<Coro<bool>(std::exception_ptr)>> exits_;
};

}  // namespace aio
