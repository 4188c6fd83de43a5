// Coro<T>: a lazy coroutine, the C++ spelling of `async def` (asyncio's coroutines.py).
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

#include "aio/detail/promise.hpp"
#include "aio/exceptions.hpp"

namespace aio {

template <class T = void>
class Coro;

namespace detail {

template <class T>
struct CoroResult {
    std::optional<T> value_;
    template <class U = T>
        requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        value_.emplace(std::forward<U>(v));
    }
};

template <>
struct CoroResult<void> {
    void return_void() noexcept {}
};

template <class T>
struct CoroPromise final : PromiseBase, CoroResult<T> {
    // The defaulted argument is evaluated inside the coroutine, so it names the
    // coroutine function itself: print_stack and debug reports get names for free.
    explicit CoroPromise(SourceLocation where = SourceLocation::current()) noexcept
        : PromiseBase(where) {}

    Coro<T> get_return_object() noexcept;
    std::suspend_always initial_suspend() noexcept { return {}; }

    struct FinalAwaiter {
        bool await_ready() noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<CoroPromise> h) noexcept {
            // To the awaiting coroutine; a task's root (continuation noop_coroutine())
            // returns to its step, which sees done() and finishes the task.
            std::coroutine_handle<> next = h.promise().continuation_;
            return next ? transfer_to(next) : std::noop_coroutine();
        }
        void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { error_ = std::current_exception(); }

    /// The coroutine's result; rethrows what escaped it.
    T take() {
        if (error_) std::rethrow_exception(error_);
        if constexpr (!std::is_void_v<T>) return std::move(*this->value_);
    }
};

template <class T>
struct CoroAwaiter {
    std::coroutine_handle<CoroPromise<T>> h;

    bool await_ready() const {
        if (!h) throw RuntimeError("RuntimeError: awaiting an empty (moved-from) Coro");
        if (h.promise().started()) throw RuntimeError("RuntimeError: cannot reuse already awaited coroutine");
        return false;
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) noexcept {
        h.promise().continuation_ = parent;
        return transfer_to(h);
    }
    T await_resume() { return h.promise().take(); }
};

}  // namespace detail

/// A lazy coroutine returning `T` (`async def f() -> T`).
///
/// Nothing runs until it is awaited (`co_await f()`, which runs it inline in the current
/// task with no trip through the loop) or handed to `create_task`/`gather`/`run`. It is
/// `[[nodiscard]]`: calling a coroutine function and dropping the result is a compile
/// warning (an error under -Werror), where asyncio only warns at garbage collection.
/// Move-only; awaitable only as an rvalue, once.
///
/// Cancellation: awaiting a Coro is not a suspension point by itself; cancellation is
/// delivered at the first suspending await inside it.
/// Thread-safety: loop-affine once started.
template <class T>
class [[nodiscard]] Coro {
    static_assert(!std::is_reference_v<T>, "Coro<T&> is not supported: return a pointer or value");

public:
    using promise_type = detail::CoroPromise<T>;
    using value_type = T;
    static_assert(alignof(promise_type) <= 16, "over-aligned coroutine results are not supported");

    Coro() noexcept = default;
    Coro(Coro&& other) noexcept : h_(std::exchange(other.h_, {})) {}
    Coro& operator=(Coro&& other) noexcept {
        if (this != &other) {
            reset();
            h_ = std::exchange(other.h_, {});
        }
        return *this;
    }
    Coro(const Coro&) = delete;
    Coro& operator=(const Coro&) = delete;
    ~Coro() { reset(); }

    /// Runs the coroutine inside the awaiting task: `co_await f()` or `co_await std::move(c)`.
    detail::CoroAwaiter<T> operator co_await() && noexcept { return {h_}; }
    /// Awaiting an lvalue would silently consume it; write `co_await std::move(c)`.
    void operator co_await() & = delete;

    /// True if this object holds a coroutine.
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

    /// Hands the frame over (create_task takes it as a task root).
    std::coroutine_handle<promise_type> release() noexcept { return std::exchange(h_, {}); }

private:
    friend promise_type;
    explicit Coro(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    void reset() noexcept {
        if (!h_) return;
        if (!h_.promise().started() && detail::debug_enabled()) detail::report_never_awaited(h_.promise().where_);
        h_.destroy();
        h_ = {};
    }

    std::coroutine_handle<promise_type> h_{};
};

template <class T>
Coro<T> detail::CoroPromise<T>::get_return_object() noexcept {
    return Coro<T>(std::coroutine_handle<CoroPromise>::from_promise(*this));
}

namespace detail {
template <class T>
struct is_coro : std::false_type {};
template <class T>
struct is_coro<Coro<T>> : std::true_type {};
}  // namespace detail

/// True for `Coro<T>`.
template <class T>
inline constexpr bool is_coro_v = detail::is_coro<std::remove_cvref_t<T>>::value;

namespace detail {
template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
        return std::forward<A>(a).operator co_await();
    } else {
        return std::forward<A>(a);
    }
}
}  // namespace detail

/// The type `co_await std::declval<A>()` produces.
template <class A>
using await_result_t = decltype(detail::get_awaiter(std::declval<A>()).await_resume());

}  // namespace aio
