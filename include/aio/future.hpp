// Future<T>: a loop-bound result holder (asyncio.Future, futures.py).
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "aio/detail/task_base.hpp"
#include "aio/exceptions.hpp"
#include "aio/loop.hpp"

namespace aio {

namespace detail {

template <class T>
class FutureState final : public PlainFutureBase {
public:
    explicit FutureState(EventLoop* loop) noexcept : PlainFutureBase(loop) {}
    ~FutureState();
    std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> value_{};
};

/// A done callback node: scheduled with call_soon when the future completes.
struct DoneCallback final : DoneLink {
    std::function<void()> fn;
    std::uint64_t id = 0;
    EventLoop* loop = nullptr;
    static void fire(DoneLink* l) noexcept;
};

/// Reports an exception that was set and never looked at (asyncio logs it at GC).
void report_never_retrieved(EventLoop* loop, const std::exception_ptr& e, const char* what,
                            const std::string& name, const std::string& where) noexcept;

std::uint64_t next_callback_id() noexcept;
std::size_t remove_done_callback(FutureBase* f, std::uint64_t id) noexcept;

/// Schedules `fn` with call_soon on `f`'s loop once `f` is done (at once if it is);
/// returns the id for remove_done_callback. Shared by Future and Task.
inline std::uint64_t add_done_callback(FutureBase* f, std::function<void()> fn) {
    auto* node = new DoneCallback;
    node->id = next_callback_id();
    node->on_done = &DoneCallback::fire;
    node->loop = f->loop_;
    node->fn = std::move(fn);
    const std::uint64_t id = node->id;
    if (f->done()) {
        DoneCallback::fire(node);
    } else {
        f->add_link(node);
    }
    return id;
}

template <class T>
FutureState<T>::~FutureState() {
    if (error_ && !(flags_ & kRetrieved) && status_ == Status::finished)
        report_never_retrieved(loop_, error_, "Future exception was never retrieved", {}, {});
}

}  // namespace detail

/// Identifies a done callback for `remove_done_callback`.
using CallbackId = std::uint64_t;

/// A result that will be set later (asyncio.Future): a loop-bound, reference-counted
/// handle. Copies share the state. Awaiting it suspends until it is done and returns the
/// result (copied for an lvalue, moved for `co_await std::move(f)`) or raises.
///
/// Cancellation: Not cancel-safe in the sense that cancelling the awaiting task also
/// cancels this future (asyncio forwards the cancel); the result is then lost.
/// Thread-safety: loop-affine; complete it from another thread via call_soon_threadsafe.
template <class T = void>
class Future {
    using State = detail::FutureState<T>;

public:
    Future() noexcept = default;
    /// A new pending future on `loop` (or use `loop.create_future<T>()`).
    explicit Future(EventLoop& loop) : s_(new State(&loop)) {}
    Future(const Future& o) : s_(o.s_) {
        if (!s_) return;
        if (detail::debug_enabled()) [[unlikely]]
            detail::check_handle_thread(s_->loop_, "a Future handle", false);
        ++s_->refs_;
    }
    Future(Future&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Future& operator=(Future o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~Future() {
        if (!s_) return;
        if (detail::debug_enabled()) [[unlikely]]
            detail::check_handle_thread(s_->loop_, "a Future handle", true);
        if (--s_->refs_ == 0) delete s_;
    }

    [[nodiscard]] bool done() const noexcept { return s_->done(); }
    [[nodiscard]] bool cancelled() const noexcept { return s_->cancelled(); }
    [[nodiscard]] EventLoop& get_loop() const noexcept { return *s_->loop_; }

    /// The result; raises the exception, CancelledError if cancelled, or
    /// InvalidStateError("Result is not set.") if pending.
    decltype(auto) result() const& { return get<false>(); }
    decltype(auto) result() && { return get<true>(); }
    /// The exception (nullptr if none); raises CancelledError/InvalidStateError like result().
    [[nodiscard]] std::exception_ptr exception() const {
        check_done();
        if (s_->cancelled()) std::rethrow_exception(s_->error_);
        s_->flags_ |= detail::FutureBase::kRetrieved;
        return s_->error_;
    }

    /// Marks the future done with a value and schedules its callbacks.
    /// Raises InvalidStateError if it is already done.
    template <class... A>
    void set_result(A&&... value) {
        check_settable("set_result");
        if constexpr (std::is_void_v<T>) {
            static_assert(sizeof...(A) == 0, "Future<void>::set_result takes no value");
            s_->value_ = true;
        } else {
            s_->value_.emplace(std::forward<A>(value)...);
        }
        s_->status_ = detail::Status::finished;
        s_->fire_links();
    }
    /// Marks the future done with an exception and schedules its callbacks.
    void set_exception(std::exception_ptr e) {
        check_settable("set_exception");
        if (!e) throw std::invalid_argument("set_exception: null exception_ptr");
        if (is_cancelled(e))
            throw std::invalid_argument("set_exception: CancelledError cannot be set; use cancel()");
        s_->error_ = std::move(e);
        s_->status_ = detail::Status::finished;
        s_->fire_links();
    }
    /// Cancels the future; false if it is already done.
    bool cancel(std::string_view msg = {}) noexcept { return s_->cancel(msg); }

    /// Calls `fn(future)` via call_soon once the future is done (at once if it is).
    template <class F>
    CallbackId add_done_callback(F fn) {
        return detail::add_done_callback(s_, [self = *this, f = std::move(fn)]() mutable { f(self); });
    }
    /// Removes a callback added with add_done_callback; returns how many were removed.
    std::size_t remove_done_callback(CallbackId id) noexcept { return detail::remove_done_callback(s_, id); }

    template <bool Move>
    class Awaiter : public detail::AwaitDone {
    public:
        explicit Awaiter(State* s) noexcept : AwaitDone(s), s_(s) {}
        decltype(auto) await_resume() {
            check_cancel();
            return Future::get_from<Move>(s_);
        }

    private:
        State* s_;
    };
    Awaiter<false> operator co_await() const& noexcept { return Awaiter<false>(s_); }
    Awaiter<true> operator co_await() && noexcept { return Awaiter<true>(s_); }

    explicit operator bool() const noexcept { return s_ != nullptr; }

private:
    void check_done() const {
        if (!s_->done()) throw InvalidStateError("InvalidStateError: Result is not set.");
    }
    void check_settable(const char* what) const {
        if (s_->done())
            throw InvalidStateError(std::string("InvalidStateError: ") + what + "() on a future that is already " +
                                    (s_->cancelled() ? "cancelled" : "done"));
    }
    template <bool Move>
    static auto get_from(State* s) -> std::conditional_t<std::is_void_v<T>, void, T> {
        if (!s->done()) throw InvalidStateError("InvalidStateError: Result is not set.");
        s->flags_ |= detail::FutureBase::kRetrieved;
        if (s->error_) std::rethrow_exception(s->error_);
        if constexpr (!std::is_void_v<T>) {
            if constexpr (Move) {
                return std::move(*s->value_);
            } else {
                return *s->value_;
            }
        }
    }
    template <bool Move>
    decltype(auto) get() const {
        return get_from<Move>(s_);
    }

    State* s_ = nullptr;
};

template <class T>
Future<T> EventLoop::create_future() {
    return Future<T>(*this);
}

}  // namespace aio
