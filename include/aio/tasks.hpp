// gather, wait, as_completed, shield and race: waiting on several tasks at once
// (the combinators of asyncio's tasks.py).
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/outcome.hpp"
#include "aio/task.hpp"

namespace aio {

/// Tag: `gather(aio::return_exceptions, …)` returns each child's Outcome instead of
/// raising the first error.
struct return_exceptions_t {
    explicit return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

/// When `wait()` returns (asyncio.FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED).
enum ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };

/// Options of `wait()`.
struct WaitOptions {
    /// Give up waiting after this long (nothing is cancelled; pending tasks are returned).
    std::optional<Clock::duration> timeout{};
    ReturnWhen return_when = ALL_COMPLETED;
};
static_assert(std::is_trivially_destructible_v<WaitOptions>, "options structs must be trivially destructible (g++ 12)");

/// What `wait()` returns: the tasks that are done and those still pending, each in the
/// order they were given.
template <class T>
struct WaitResult {
    std::vector<Task<T>> done;
    std::vector<Task<T>> pending;
};

namespace detail {

template <class A>
struct awaited_value;
template <class T>
struct awaited_value<Coro<T>> {
    using type = T;
};
template <class T>
struct awaited_value<Task<T>> {
    using type = T;
};
template <class A>
using awaited_value_t = typename awaited_value<std::remove_cvref_t<A>>::type;

template <class A>
concept TaskOrCoro = is_coro_v<A> || is_task_v<A>;

/// Coro → a new task (asyncio's ensure_future); Task → itself.
template <class A>
auto ensure_task(A&& a) {
    if constexpr (is_coro_v<A>) {
        return create_task(std::forward<A>(a));
    } else {
        return Task<awaited_value_t<A>>(std::forward<A>(a));
    }
}

enum class WaitMode : std::uint8_t {
    gather,           // first failure or cancellation, else all done
    all,              // all done (gather with return_exceptions, ALL_COMPLETED)
    first_completed,  // any done
    first_exception,  // first failure (not a cancellation), else all done
};

/// The tasks a WaitSet watches, read in place from the caller's handles (a
/// std::vector<Task<T>> or an array of states), so a gather over 100,000 tasks keeps
/// no second array of pointers.
class ChildList {
public:
    template <std::size_t N>
    ChildList(TaskBase* const (&states)[N]) noexcept  // NOLINT: converts implicitly
        : data_(states), size_(N), at_(&state_at) {}
    template <class T>
    ChildList(const std::vector<Task<T>>& tasks) noexcept  // NOLINT: converts implicitly
        : data_(tasks.data()), size_(tasks.size()), at_(&task_at<T>) {}

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    TaskBase* operator[](std::size_t i) const noexcept { return at_(data_, i); }

private:
    static TaskBase* state_at(const void* data, std::size_t i) noexcept {
        return static_cast<TaskBase* const*>(data)[i];
    }
    template <class T>
    static TaskBase* task_at(const void* data, std::size_t i) noexcept {
        return static_cast<const Task<T>*>(data)[i].state();
    }

    const void* data_;
    std::size_t size_;
    TaskBase* (*at_)(const void*, std::size_t) noexcept;
};

/// Waits for a set of tasks according to `mode`, optionally until a deadline.
///
/// With `forward_cancel` (gather, race) cancelling the waiting task cancels every
/// child that is not done and keeps waiting (asyncio's _GatheringFuture.cancel);
/// otherwise (wait, as_completed) the wait itself ends with CancelledError and the
/// children are left alone.
class WaitSet : public Suspension, public TimerNode, public GroupWaiter {
public:
    WaitSet(ChildList children, WaitMode mode, bool forward_cancel,
            std::optional<Clock::time_point> deadline = std::nullopt);
    WaitSet(const WaitSet&) = delete;
    WaitSet& operator=(const WaitSet&) = delete;
    ~WaitSet();

    bool await_ready();
    bool await_suspend(std::coroutine_handle<> h);
    void await_resume();

    /// The first child that completed while waiting (or was found done), or nullptr.
    [[nodiscard]] TaskBase* first_done() const noexcept { return first_done_; }
    /// The first child that failed or was cancelled (gather mode), or nullptr.
    [[nodiscard]] TaskBase* first_failed() const noexcept { return first_failed_; }
    [[nodiscard]] bool cancel_requested() const noexcept { return cancel_requested_; }

private:
    static void on_child_done(GroupWaiter* g, FutureBase* child) noexcept;
    static void timer_fired(TimerNode* n) noexcept;
    static bool on_cancel_forward(Suspension* s);
    static bool on_cancel_leaf(Suspension* s) noexcept;
    /// Looks at a finished child; true if the wait is over.
    bool note_done(TaskBase* child) noexcept;
    void finish() noexcept;  // unlink everything, stop the timer, wake the task once

    ChildList children_;
    std::size_t remaining_ = 0;
    TaskBase* first_done_ = nullptr;
    TaskBase* first_failed_ = nullptr;
    std::optional<Clock::time_point> deadline_;
    TaskBase* task_ = nullptr;
    WaitMode mode_;
    bool forward_cancel_;
    bool over_ = false;
    bool cancelled_ = false;
    bool cancel_requested_ = false;
    bool registered_ = false;  // with the children that were pending at the suspension
};

template <class T>
value_or_monostate_t<T> take_result(Task<T>& t) {
    if constexpr (std::is_void_v<T>) {
        std::move(t).result();
        return {};
    } else {
        return std::move(t).result();
    }
}

template <class T>
Outcome<value_or_monostate_t<T>> take_outcome(Task<T>& t) {
    try {
        return Outcome<value_or_monostate_t<T>>(take_result(t));
    } catch (...) {
        return Outcome<value_or_monostate_t<T>>(std::current_exception());
    }
}

/// After a gather-mode wait: raise the first failure, or CancelledError if the gather
/// itself was cancelled.
void raise_gather_failure(const WaitSet& ws, ChildList children);

template <class... T>
Coro<std::tuple<value_or_monostate_t<T>...>> gather_tuple(Task<T>... tasks) {
    TaskBase* children[] = {tasks.state()...};
    WaitSet ws(children, WaitMode::gather, true);
    co_await ws;
    raise_gather_failure(ws, children);
    co_return std::tuple<value_or_monostate_t<T>...>(take_result(tasks)...);
}

template <class... T>
Coro<std::tuple<Outcome<value_or_monostate_t<T>>...>> gather_outcomes(Task<T>... tasks) {
    TaskBase* children[] = {tasks.state()...};
    WaitSet ws(children, WaitMode::all, true);
    co_await ws;
    if (ws.cancel_requested()) running_task("gather").throw_cancelled();
    co_return std::tuple<Outcome<value_or_monostate_t<T>>...>(take_outcome(tasks)...);
}

template <class T>
Coro<std::vector<value_or_monostate_t<T>>> gather_vector(std::vector<Task<T>> tasks) {
    WaitSet ws(tasks, WaitMode::gather, true);
    co_await ws;
    raise_gather_failure(ws, tasks);
    std::vector<value_or_monostate_t<T>> out;
    out.reserve(tasks.size());
    for (auto& t : tasks) out.push_back(take_result(t));
    co_return out;
}

template <class T>
Coro<std::vector<Outcome<value_or_monostate_t<T>>>> gather_vector_outcomes(std::vector<Task<T>> tasks) {
    WaitSet ws(tasks, WaitMode::all, true);
    co_await ws;
    if (ws.cancel_requested()) running_task("gather").throw_cancelled();
    std::vector<Outcome<value_or_monostate_t<T>>> out;
    out.reserve(tasks.size());
    for (auto& t : tasks) out.push_back(take_outcome(t));
    co_return out;
}

template <class R>
auto to_task_vector(R&& range) {
    using Elem = std::ranges::range_value_t<R>;
    std::vector<Task<awaited_value_t<Elem>>> tasks;
    if constexpr (std::ranges::sized_range<R>) tasks.reserve(std::ranges::size(range));
    for (auto&& a : range) {
        if constexpr (is_coro_v<Elem>) {
            tasks.push_back(create_task(std::move(a)));
        } else {
            tasks.push_back(a);
        }
    }
    return tasks;
}

template <class R>
concept TaskOrCoroRange = std::ranges::input_range<R> && TaskOrCoro<std::ranges::range_value_t<R>>;

template <std::size_t I, class Variant, class... T>
Variant winner_value(std::size_t index, std::tuple<Task<T>...>& tasks) {
    if constexpr (I < sizeof...(T)) {
        if (index == I) return Variant(std::in_place_index<I>, take_result(std::get<I>(tasks)));
        return winner_value<I + 1, Variant>(index, tasks);
    } else {
        throw RuntimeError("RuntimeError: race() found no winner");
    }
}

template <class... T>
Coro<std::variant<value_or_monostate_t<T>...>> race_tasks(Task<T>... tasks) {
    TaskBase* children[] = {tasks.state()...};
    std::size_t winner = 0;
    {
        WaitSet first(children, WaitMode::first_completed, true);
        co_await first;
        while (children[winner] != first.first_done()) ++winner;
    }
    // Cancel the losers and wait for their cleanup before returning.
    for (TaskBase* c : children) {
        if (!c->done()) c->cancel({});
    }
    {
        WaitSet rest(children, WaitMode::all, true);
        co_await rest;
    }
    auto all = std::tuple<Task<T>...>(tasks...);
    co_return winner_value<0, std::variant<value_or_monostate_t<T>...>>(winner, all);
}

}  // namespace detail

/// Runs the awaitables concurrently and returns their results in argument order
/// (asyncio.gather). Each `Coro` is wrapped in a task at once; `Task`s are used as
/// they are. `void` results appear as std::monostate.
///
/// The first exception (or a child's cancellation) is raised as soon as it happens and
/// the other children keep running, as in asyncio; prefer `task_group`, which cancels
/// them. With `aio::return_exceptions` as first argument every child is awaited and its
/// Outcome returned instead.
/// Cancellation: Cancel-safe: cancelling the gather cancels every child that is not done
/// and waits for them; then CancelledError is raised.
/// Lifetime: after the first exception the other children may still run; they must not
/// refer to objects the caller is about to destroy.
/// Thread-safety: loop-affine.
template <class... A>
    requires(sizeof...(A) > 0 && (detail::TaskOrCoro<A> && ...))
[[nodiscard]] auto gather(A&&... aws) {
    return detail::gather_tuple(detail::ensure_task(std::forward<A>(aws))...);
}

template <class... A>
    requires(detail::TaskOrCoro<A> && ...)
[[nodiscard]] auto gather(return_exceptions_t, A&&... aws) {
    return detail::gather_outcomes(detail::ensure_task(std::forward<A>(aws))...);
}

/// Range form: a range of `Coro<T>` (moved from) or `Task<T>` → `std::vector` of results.
template <detail::TaskOrCoroRange R>
[[nodiscard]] auto gather(R&& range) {
    return detail::gather_vector(detail::to_task_vector(std::forward<R>(range)));
}

template <detail::TaskOrCoroRange R>
[[nodiscard]] auto gather(return_exceptions_t, R&& range) {
    return detail::gather_vector_outcomes(detail::to_task_vector(std::forward<R>(range)));
}

/// Waits for the tasks until `return_when` is met or the timeout passes and returns
/// `{done, pending}` in the given order (asyncio.wait). It never raises on timeout and
/// cancels nothing. Takes tasks only, as asyncio 3.11+ does: wrap coroutines with
/// create_task first. Raises std::invalid_argument for an empty set.
/// Cancellation: Cancel-safe: the tasks are left running.
/// Lifetime: pending tasks keep running after it returns.
/// Thread-safety: loop-affine.
template <class T>
[[nodiscard]] Coro<WaitResult<T>> wait(std::vector<Task<T>> tasks, WaitOptions options = {}) {
    if (tasks.empty()) throw std::invalid_argument("Set of Tasks/Futures is empty.");
    std::optional<Clock::time_point> deadline;
    if (options.timeout) deadline = get_running_loop().time() + *options.timeout;
    detail::WaitMode mode = options.return_when == FIRST_COMPLETED   ? detail::WaitMode::first_completed
                            : options.return_when == FIRST_EXCEPTION ? detail::WaitMode::first_exception
                                                                     : detail::WaitMode::all;
    {
        detail::WaitSet ws(tasks, mode, false, deadline);
        co_await ws;
    }
    WaitResult<T> result;
    for (auto& t : tasks) (t.done() ? result.done : result.pending).push_back(std::move(t));
    co_return result;
}

/// Yields the tasks in the order they complete (asyncio.as_completed):
/// `auto it = aio::as_completed(tasks); while (auto t = co_await it.next()) use(co_await *t);`
/// `next()` raises TimeoutError once the timeout passes (remaining tasks keep running).
/// Cancellation: Cancel-safe: a cancelled next() loses no completed task.
/// Thread-safety: loop-affine.
template <class T>
class AsCompleted {
    struct State;

public:
    AsCompleted(std::vector<Task<T>> tasks, std::optional<Clock::duration> timeout);

    class NextAwaiter : public detail::LeafWait {
    public:
        explicit NextAwaiter(State* s) noexcept : s_(s) {}
        NextAwaiter(const NextAwaiter&) = delete;
        NextAwaiter& operator=(const NextAwaiter&) = delete;
        ~NextAwaiter() {
            if (s_->waiter == this) s_->waiter = nullptr;
        }
        bool await_ready() const noexcept { return !s_->finished.empty() || s_->remaining == 0 || s_->expired; }
        bool await_suspend(std::coroutine_handle<> h) {
            if (!park(h, &NextAwaiter::cancel_hook, "as_completed")) return false;
            s_->waiter = this;
            return true;
        }
        std::optional<Task<T>> await_resume() {
            if (cancel_pending()) task->throw_cancelled();
            if (!s_->finished.empty()) {
                Task<T> t = std::move(s_->finished.front());
                s_->finished.pop_front();
                return t;
            }
            if (s_->remaining == 0) return std::nullopt;
            throw TimeoutError();
        }

    private:
        static bool cancel_hook(detail::Suspension* sus) noexcept {
            auto* self = static_cast<NextAwaiter*>(sus);
            self->s_->waiter = nullptr;
            return self->cancelled_by_request();
        }
        State* s_;
    };

    /// The next completed task, or nullopt when all were yielded; TimeoutError once the
    /// timeout has passed.
    /// Cancellation: Cancel-safe: a completed task is never lost by a cancelled next().
    [[nodiscard]] NextAwaiter next() { return NextAwaiter(state_.get()); }

private:
    struct Link : detail::DoneLink {
        State* state = nullptr;
        Task<T> task;
    };
    struct State : detail::TimerNode {
        std::vector<std::unique_ptr<Link>> links;
        std::deque<Task<T>> finished;
        std::size_t remaining = 0;
        bool expired = false;
        NextAwaiter* waiter = nullptr;
        EventLoop* loop = nullptr;
        ~State() {
            for (auto& l : links) {
                if (l->linked()) l->task.state()->remove_link(l.get());
            }
            if (queued()) loop->cancel_timer(this);
        }
        void wake_waiter() noexcept {
            if (NextAwaiter* w = std::exchange(waiter, nullptr)) w->wake();
        }
    };
    std::unique_ptr<State> state_;
};

template <class T>
AsCompleted<T>::AsCompleted(std::vector<Task<T>> tasks, std::optional<Clock::duration> timeout)
    : state_(std::make_unique<State>()) {
    State* s = state_.get();
    s->loop = &get_running_loop();
    for (auto& t : tasks) {
        if (t.done()) {
            s->finished.push_back(std::move(t));
            continue;
        }
        auto link = std::make_unique<Link>();
        link->state = s;
        link->task = std::move(t);
        link->on_done = [](detail::DoneLink* l) noexcept {
            auto* self = static_cast<Link*>(l);
            self->state->finished.push_back(self->task);
            --self->state->remaining;
            self->state->wake_waiter();
        };
        link->task.state()->add_link(link.get());
        s->links.push_back(std::move(link));
        ++s->remaining;
    }
    if (timeout) {
        s->when = s->loop->time() + *timeout;
        s->fire = [](detail::TimerNode* n) noexcept {
            auto* st = static_cast<State*>(n);
            st->expired = true;
            st->wake_waiter();
        };
        s->loop->add_timer(s);
    }
}

template <class T>
[[nodiscard]] AsCompleted<T> as_completed(std::vector<Task<T>> tasks, std::optional<Clock::duration> timeout = {}) {
    return AsCompleted<T>(std::move(tasks), timeout);
}

namespace detail {
template <class T>
class ShieldAwaiter : public ShieldWait {
public:
    explicit ShieldAwaiter(Task<T> inner) noexcept : inner_(std::move(inner)) {}
    ShieldAwaiter(ShieldAwaiter&& o) noexcept : inner_(std::move(o.inner_)) {}
    ShieldAwaiter& operator=(const ShieldAwaiter&) = delete;
    ~ShieldAwaiter() {
        if (linked()) inner_.state()->remove_link(this);
    }
    bool await_ready() const noexcept { return inner_.done(); }
    bool await_suspend(std::coroutine_handle<> h) {
        if (!park(h, &ShieldWait::cancel_hook, "shield")) return false;
        inner_state = inner_.state();
        on_done = [](DoneLink* l) noexcept { static_cast<ShieldAwaiter*>(l)->wake(); };
        inner_.state()->add_link(this);
        return true;
    }
    decltype(auto) await_resume() {
        if (cancel_pending()) task->throw_cancelled();
        return std::move(inner_).result();
    }

private:
    Task<T> inner_;
};
}  // namespace detail

/// Awaits `aw` but protects it from cancellation (asyncio.shield): cancelling the
/// awaiting task raises CancelledError at once while the inner task runs on.
/// Unlike asyncio, if the inner task later fails with nobody holding it, its exception
/// is reported as never retrieved rather than silently dropped.
/// Cancellation: Cancel-safe: the inner task is not cancelled and keeps running.
/// Lifetime: the inner task may outlive the caller.
/// Thread-safety: loop-affine.
template <class A>
    requires detail::TaskOrCoro<A>
[[nodiscard]] auto shield(A&& aw) {
    return detail::ShieldAwaiter<detail::awaited_value_t<A>>(detail::ensure_task(std::forward<A>(aw)));
}

/// Runs the awaitables concurrently and returns the first result as a variant whose
/// index is the winner's position; the losers are cancelled and their cleanup has run
/// before it returns. If the first to finish failed, its exception is raised (after the
/// same cleanup). The `read-or-timeout-or-shutdown` idiom.
/// Cancellation: Cancel-safe: every child is cancelled and awaited, then CancelledError.
/// Thread-safety: loop-affine.
template <class... A>
    requires(sizeof...(A) > 1 && (detail::TaskOrCoro<A> && ...))
[[nodiscard]] auto race(A&&... aws) {
    return detail::race_tasks(detail::ensure_task(std::forward<A>(aws))...);
}

}  // namespace aio
