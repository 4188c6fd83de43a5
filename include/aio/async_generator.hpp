// AsyncGenerator<T>: a coroutine that `co_yield`s values to an awaiting consumer — Python's
// async generators (`async def f(): yield x` consumed with `async for`, PEP 525).
//
// The generator has no task of its own: next() and aclose() resume its frame inside the
// consumer's task by symmetric transfer, so a `co_await` in the generator parks the
// consumer's task there (cancelling the consumer raises CancelledError at that await) and a
// generator that yields without awaiting never goes through the loop.
//
// Generator states (the promise's `state_`; CPython's ag_frame/ag_running_async):
//
//   created ──next()──► running ──co_yield──► suspended ──next()──► running …
//      │                  │  ▲                   │
//      │                  │  └──── aclose() ─────┘ (GeneratorExit raised at the co_yield;
//      │                  │                         yielding again: RuntimeError, stays suspended)
//      │                  └── returns / throws / GeneratorExit escapes ──► done
//      └── aclose() ──► closed (the body never runs)
//
//   running:   a next()/aclose() is in progress (the generator may be parked on a leaf in
//              the consumer's task); another next()/aclose() raises RuntimeError.
//   done/closed: next() returns std::nullopt every time, aclose() is a no-op. An exception
//              that escaped the body is raised once, by the next()/aclose() that ran it.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <source_location>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/promise.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/exceptions.hpp"
#include "aio/loop.hpp"

namespace aio {

template <class T>
class AsyncGenerator;

namespace detail {

enum class AsyncGenState : std::uint8_t { created, running, suspended, done, closed };

/// Reports a generator destroyed while suspended at a co_yield (debug mode only).
inline void report_agen_not_closed(const SourceLocation& where) noexcept {
    try {
        ExceptionContext ctx{"async generator was destroyed without aclose()", nullptr, {},
                             std::string(where.function_name()) + " (" + where.file_name() + ":" +
                                 std::to_string(where.line()) + ")"};
        if (tl_current_task) ctx.task = tl_current_task->name();
        if (tl_running_loop) {
            tl_running_loop->call_exception_handler(ctx);
        } else {
            EventLoop::default_exception_handler(ctx);
        }
    } catch (...) {
        // Out of memory while formatting a debug report: nothing sensible is left to do.
    }
}

template <class T>
struct AsyncGenPromise final : PromiseBase, AsyncGenHook {
    // PromiseBase::continuation_ is the consumer awaiting next()/aclose(): the generator's
    // parent in the async stack while it runs, and where co_yield/final_suspend transfer to.
    explicit AsyncGenPromise(SourceLocation where = SourceLocation::current()) noexcept
        : PromiseBase(where) {}
    AsyncGenPromise(const AsyncGenPromise&) = delete;
    AsyncGenPromise& operator=(const AsyncGenPromise&) = delete;
    ~AsyncGenPromise() { unlink_gen(); }
    /// run()'s shutdown: aclose() a generator still alive when the loop winds down.
    static Coro<> aclose_at_shutdown(AsyncGenHook* hook);

    AsyncGenerator<T> get_return_object() noexcept;
    std::suspend_always initial_suspend() noexcept { return {}; }

    /// Hands the yielded value's address to the consumer and transfers back to it. The
    /// value (the co_yield operand, or the converted copy in this awaiter) lives in the
    /// generator's frame until it is resumed, after the consumer took it.
    struct YieldAwaiter {
        AsyncGenPromise* p;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept {
            p->state_ = AsyncGenState::suspended;
            return transfer_to(p->continuation_);
        }
        void await_resume() const {
            // aclose(): Python raises GeneratorExit at the suspended yield.
            if (p->closing_) throw GeneratorExit{};
        }
    };
    struct ConvertingYieldAwaiter : YieldAwaiter {
        T value;
        template <class U>
        ConvertingYieldAwaiter(AsyncGenPromise* promise, U&& u) : YieldAwaiter{promise}, value(std::forward<U>(u)) {
            promise->value_ = &value;
            promise->move_ = true;
        }
    };

    /// `co_yield rvalue`: the consumer moves the value out.
    YieldAwaiter yield_value(T&& v) noexcept {
        value_ = std::addressof(v);
        move_ = true;
        return YieldAwaiter{this};
    }
    /// `co_yield lvalue`: the consumer gets a copy.
    YieldAwaiter yield_value(const T& v) noexcept
        requires std::is_copy_constructible_v<T>
    {
        value_ = const_cast<T*>(std::addressof(v));
        move_ = false;
        return YieldAwaiter{this};
    }
    /// `co_yield x` where x converts to T (`co_yield "text"` for std::string).
    template <class U>
        requires(!std::is_same_v<std::remove_cvref_t<U>, T> && std::is_constructible_v<T, U &&>)
    ConvertingYieldAwaiter yield_value(U&& u) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        return ConvertingYieldAwaiter(this, std::forward<U>(u));
    }

    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<AsyncGenPromise> h) noexcept {
            AsyncGenPromise& p = h.promise();
            p.state_ = AsyncGenState::done;
            p.unlink_gen();
            return p.continuation_ ? transfer_to(p.continuation_) : std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept {
        if (closing_) {
            // GeneratorExit leaving the body during aclose() is a normal close.
            try {
                throw;
            } catch (const GeneratorExit&) {
                return;
            } catch (...) {
            }
        }
        error_ = std::current_exception();
    }

    /// The consumer's side of a resume: claims the generator or reports it busy.
    void start_resume(std::coroutine_handle<> consumer, const char* verb) {
        if (state_ == AsyncGenState::running)
            throw RuntimeError(std::string("RuntimeError: ") + verb + "(): asynchronous generator is already running");
        continuation_ = consumer;
        value_ = nullptr;
        state_ = AsyncGenState::running;
        if (!gen_loop && tl_running_loop) {
            aclose_fn = &AsyncGenPromise::aclose_at_shutdown;
            link_gen(tl_running_loop);
        }
    }
    /// Raises (once) the exception that finished the generator.
    void rethrow_error() {
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

    T* value_ = nullptr;  // the yielded value while suspended at a co_yield
    bool move_ = false;   // rvalue yield: move it out; lvalue yield: copy it
    bool closing_ = false;  // aclose() in progress: the co_yield raises GeneratorExit
    AsyncGenState state_ = AsyncGenState::created;
};

/// What `co_await agen.next()` does (Python's `__anext__()` awaitable).
template <class T>
class AnextAwaiter {
public:
    using Handle = std::coroutine_handle<AsyncGenPromise<T>>;
    explicit AnextAwaiter(Handle h) noexcept : h_(h) {}
    AnextAwaiter(const AnextAwaiter&) = delete;
    AnextAwaiter& operator=(const AnextAwaiter&) = delete;

    bool await_ready() const {
        if (!h_) throw RuntimeError("RuntimeError: next() on an empty (moved-from) AsyncGenerator");
        const AsyncGenState s = h_.promise().state_;
        if (s == AsyncGenState::running)
            throw RuntimeError("RuntimeError: anext(): asynchronous generator is already running");
        return s == AsyncGenState::done || s == AsyncGenState::closed;
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) {
        h_.promise().start_resume(consumer, "anext");
        return transfer_to(h_);
    }
    std::optional<T> await_resume() {
        AsyncGenPromise<T>& p = h_.promise();
        p.rethrow_error();
        if (p.state_ != AsyncGenState::suspended) return std::nullopt;
        T* v = std::exchange(p.value_, nullptr);
        if constexpr (std::is_copy_constructible_v<T>) {
            if (!p.move_) return std::optional<T>(std::in_place, *v);
        }
        return std::optional<T>(std::in_place, std::move(*v));
    }

private:
    Handle h_;
};

/// What `co_await agen.aclose()` does (Python's `aclose()` awaitable).
template <class T>
class AcloseAwaiter {
public:
    using Handle = std::coroutine_handle<AsyncGenPromise<T>>;
    explicit AcloseAwaiter(Handle h) noexcept : h_(h) {}
    AcloseAwaiter(const AcloseAwaiter&) = delete;
    AcloseAwaiter& operator=(const AcloseAwaiter&) = delete;

    bool await_ready() const {
        if (!h_) return true;
        AsyncGenPromise<T>& p = h_.promise();
        switch (p.state_) {
            case AsyncGenState::running:
                throw RuntimeError("RuntimeError: aclose(): asynchronous generator is already running");
            case AsyncGenState::created:
                // Never started: mark it closed; its body will never run (as in Python).
                p.state_ = AsyncGenState::closed;
                return true;
            case AsyncGenState::suspended:
                return false;
            case AsyncGenState::done:
            case AsyncGenState::closed:
                break;
        }
        return true;
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) {
        AsyncGenPromise<T>& p = h_.promise();
        p.start_resume(consumer, "aclose");
        p.closing_ = true;
        return transfer_to(h_);
    }
    void await_resume() {
        if (!h_) return;
        AsyncGenPromise<T>& p = h_.promise();
        if (!p.closing_) return;  // await_ready said there was nothing to close
        p.closing_ = false;
        p.rethrow_error();
        if (p.state_ == AsyncGenState::suspended) {
            // It yielded again instead of finishing; it stays suspended at that co_yield.
            p.value_ = nullptr;
            throw RuntimeError("RuntimeError: async generator ignored GeneratorExit");
        }
    }

private:
    Handle h_;
};

template <class T>
Coro<> AsyncGenPromise<T>::aclose_at_shutdown(AsyncGenHook* hook) {
    auto* p = static_cast<AsyncGenPromise<T>*>(hook);
    co_await AcloseAwaiter<T>(std::coroutine_handle<AsyncGenPromise<T>>::from_promise(*p));
}

}  // namespace detail

/// An async generator (`async def f(): ... yield x`): a coroutine returning
/// `AsyncGenerator<T>` may `co_yield` values of type `T` and `co_await` anything.
///
/// ```cpp
/// aio::AsyncGenerator<int> ticks(int n) {
///     for (int i = 0; i < n; ++i) {
///         co_await aio::sleep(10ms);
///         co_yield i;
///     }
/// }
/// auto gen = ticks(3);
/// while (auto i = co_await gen.next()) use(*i);     // async for i in ticks(3)
/// ```
///
/// Lazy like `Coro`: the body starts at the first next(). It runs inside the consumer's
/// task: an await in the generator parks the consumer's task there, `current_task()` is the
/// consumer's, and cancelling the consumer raises CancelledError at the generator's
/// current await. A generator that yields without awaiting never returns to the loop.
///
/// `co_yield lvalue` copies the value to the consumer, `co_yield rvalue` moves it (so `T`
/// may be move-only); anything convertible to `T` may be yielded.
///
/// Ending: after the body returns or throws, next() yields `std::nullopt` every time (the
/// exception, if any, is raised once by the next() that ran into it). Python raises
/// StopAsyncIteration on each further `__anext__()`; nullopt is the C++ spelling.
///
/// Async cleanup: `co_await agen.aclose()` (or `aio::aclosing`) raises `aio::GeneratorExit`
/// at the suspended `co_yield`. C++ cannot `co_await` inside a catch block, so the idiom is
/// to catch, note it, and await the cleanup after the try:
///
/// ```cpp
/// aio::AsyncGenerator<Row> rows(Cursor& cur) {
///     try {
///         while (auto page = co_await cur.fetch_page()) for (auto& r : *page) co_yield std::move(r);
///     } catch (const aio::GeneratorExit&) {
///         // closed early by aclose(): fall through to the cleanup
///     }
///     co_await cur.close();   // runs at the end, and on aclose()
/// }
/// ```
/// Returning (or letting GeneratorExit escape) completes the close; yielding another value
/// makes aclose() raise RuntimeError. Destroying a generator suspended at a `co_yield`
/// without aclose() runs only the frame's destructors (no awaits) and is reported through
/// the loop's exception handler in debug mode (asyncio would schedule aclose() at garbage
/// collection; C++ destruction cannot await).
///
/// Move-only, single-consumer: a next() or aclose() while another is in progress (another
/// task is inside the generator) raises RuntimeError, as in Python. It must not be
/// destroyed while a next()/aclose() is in progress.
/// Thread-safety: loop-affine.
template <class T>
class [[nodiscard]] AsyncGenerator {
    static_assert(!std::is_reference_v<T> && !std::is_void_v<T>,
                  "AsyncGenerator<T> yields values: use a pointer or std::reference_wrapper for references");

public:
    using promise_type = detail::AsyncGenPromise<T>;
    using value_type = T;
    static_assert(alignof(promise_type) <= 16, "over-aligned promises break the async-stack walk");

    AsyncGenerator() noexcept = default;
    AsyncGenerator(AsyncGenerator&& other) noexcept : h_(std::exchange(other.h_, {})) {}
    AsyncGenerator& operator=(AsyncGenerator&& other) noexcept {
        if (this != &other) {
            reset();
            h_ = std::exchange(other.h_, {});
        }
        return *this;
    }
    AsyncGenerator(const AsyncGenerator&) = delete;
    AsyncGenerator& operator=(const AsyncGenerator&) = delete;
    ~AsyncGenerator() { reset(); }

    /// The next value, or `std::nullopt` once the generator has finished (`anext(agen)`;
    /// `async for` is `while (auto x = co_await agen.next())`). Runs the generator inline
    /// in the awaiting task until it yields, returns or throws; its exception is raised
    /// here. RuntimeError if another next()/aclose() is in progress.
    /// Cancellation: Not cancel-safe: CancelledError is raised inside the generator at its
    /// current await; if it escapes, the generator is finished and next() raises it.
    /// Thread-safety: loop-affine.
    [[nodiscard]] detail::AnextAwaiter<T> next() noexcept { return detail::AnextAwaiter<T>(h_); }

    /// Closes the generator (`await agen.aclose()`): if it is suspended at a co_yield,
    /// GeneratorExit is raised there and the generator runs to its end, awaiting its
    /// cleanup; an exception from the cleanup is raised here, and yielding another value
    /// raises RuntimeError("RuntimeError: async generator ignored GeneratorExit"). A
    /// generator not started (its body never runs) or finished is just marked closed.
    /// Cancellation: Not cancel-safe: CancelledError is raised inside the generator's
    /// cleanup at its current await and, if it escapes, from aclose().
    /// Thread-safety: loop-affine.
    [[nodiscard]] detail::AcloseAwaiter<T> aclose() noexcept { return detail::AcloseAwaiter<T>(h_); }

    /// True if this object holds a generator (false once moved from).
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

private:
    friend promise_type;
    explicit AsyncGenerator(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    void reset() noexcept {
        if (!h_) return;
        if (h_.promise().state_ == detail::AsyncGenState::suspended && detail::debug_enabled())
            detail::report_agen_not_closed(h_.promise().where_);
        h_.destroy();
        h_ = {};
    }

    std::coroutine_handle<promise_type> h_{};
};

template <class T>
AsyncGenerator<T> detail::AsyncGenPromise<T>::get_return_object() noexcept {
    return AsyncGenerator<T>(std::coroutine_handle<AsyncGenPromise>::from_promise(*this));
}

namespace detail {

template <class T, class F>
using aclosing_result_t = typename std::invoke_result_t<F&, AsyncGenerator<T>&>::value_type;

// G is AsyncGenerator<T>& (the caller's generator) or AsyncGenerator<T> (moved in here).
template <class R, class G, class F>
Coro<R> aclosing_impl(G agen, F body) {
    // `body` lives in this frame until the close is done (DESIGN §3 "Lifetimes").
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<R>, char, R>> result;
    try {
        if constexpr (std::is_void_v<R>) {
            co_await std::invoke(body, agen);
        } else {
            result.emplace(co_await std::invoke(body, agen));
        }
    } catch (...) {
        // Any exit, CancelledError included: close first, then re-raise (async with).
        error = std::current_exception();
    }
    // An exception from the close replaces the body's, as in Python's __aexit__.
    co_await agen.aclose();
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

}  // namespace detail

/// Runs `body(agen)` and then awaits `agen.aclose()` on every path — success, exception,
/// cancellation (Python's `async with contextlib.aclosing(agen) as g:`). `body` is a
/// callable returning a `Coro<R>`; it is stored by value in this coroutine's frame. Pass
/// a generator lvalue (closed in place) or a temporary (moved into the frame). Returns
/// the body's result; the body's exception is re-raised after the close, unless the
/// close itself raised.
/// Cancellation: Not cancel-safe: CancelledError from the body is re-raised after aclose();
/// the generator's cleanup runs (and may be cancelled again by a further cancel()).
/// Thread-safety: loop-affine.
template <class T, class F>
    requires is_coro_v<std::invoke_result_t<F&, AsyncGenerator<T>&>>
[[nodiscard]] Coro<detail::aclosing_result_t<T, F>> aclosing(AsyncGenerator<T>& agen, F body) {
    return detail::aclosing_impl<detail::aclosing_result_t<T, F>, AsyncGenerator<T>&>(agen, std::move(body));
}

/// aclosing() for a generator temporary: `co_await aio::aclosing(rows(), body)`.
/// Cancellation: Not cancel-safe: as aclosing(agen, body) above.
/// Thread-safety: loop-affine.
template <class T, class F>
    requires is_coro_v<std::invoke_result_t<F&, AsyncGenerator<T>&>>
[[nodiscard]] Coro<detail::aclosing_result_t<T, F>> aclosing(AsyncGenerator<T>&& agen, F body) {
    return detail::aclosing_impl<detail::aclosing_result_t<T, F>, AsyncGenerator<T>>(std::move(agen),
                                                                                     std::move(body));
}

}  // namespace aio
