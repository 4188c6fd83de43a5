// task_group and TaskGroup: structured concurrency (asyncio.TaskGroup, taskgroups.py).
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/future.hpp"
#include "aio/task.hpp"

namespace aio {

/// The group a `task_group` body receives (asyncio.TaskGroup).
///
/// Children run concurrently; the group waits for all of them. The first child to fail
/// cancels the other children and the body; every failure is collected into one
/// ExceptionGroup("unhandled errors in a TaskGroup"). An outside cancel of the parent
/// cancels the children and stays CancelledError. Counting of cancel requests follows
/// CPython 3.13 exactly, so nested groups and timeouts never confuse whose cancel it was.
/// Thread-safety: loop-affine.
class TaskGroup {
public:
    TaskGroup() = default;
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;
    ~TaskGroup();

    /// Starts `coro` as a child task. Raises RuntimeError if the group is not active.
    template <class T>
    Task<T> create_task(Coro<T>&& coro, std::string_view name = {}) {
        check_can_spawn();
        Task<T> t = aio::create_task(std::move(coro), name);
        adopt(t);
        return t;
    }
    /// create_task(fn, args...): keeps `fn` and copies of `args` alive until the child ends.
    template <class F, class... A>
        requires(!is_coro_v<F>)
    auto create_task(F&& fn, A&&... args) {
        check_can_spawn();
        auto t = aio::create_task(std::forward<F>(fn), std::forward<A>(args)...);
        adopt(t);
        return t;
    }

    // The `async with` protocol, used by task_group().
    void enter();
    /// Waits for the children (after the body ended with `error`, null on success) and
    /// raises what CPython's __aexit__ would raise.
    /// Cancellation: Cancel-safe: a cancel while waiting cancels the children, which are
    /// still awaited before CancelledError propagates.
    [[nodiscard]] Coro<> exit(std::exception_ptr error);

private:
    struct Child : detail::DoneLink {
        TaskGroup* group = nullptr;
        AnyTask task;
    };
    void check_can_spawn() const;
    void adopt(const AnyTask& t);
    static void child_done(detail::DoneLink* l) noexcept;
    void handle_child_done(Child* c) noexcept;
    void on_child_done(const AnyTask& t);
    void abort() noexcept;

    std::vector<Child*> children_;
    std::vector<std::exception_ptr> errors_;
    detail::TaskBase* parent_ = nullptr;
    std::optional<Future<void>> on_completed_;
    bool entered_ = false;
    bool exiting_ = false;
    bool aborting_ = false;
    bool parent_cancel_requested_ = false;
};

namespace detail {
template <class F>
using group_body_result_t = std::remove_cvref_t<await_result_t<std::invoke_result_t<F&, TaskGroup&>>>;

template <class F>
Coro<group_body_result_t<F>> task_group_impl(F body) {
    using T = group_body_result_t<F>;
    // The group outlives the body's frame: children may use what is declared outside
    // the body, never the body's own locals (they die when it returns).
    TaskGroup group;
    group.enter();
    std::exception_ptr error;
    if constexpr (std::is_void_v<T>) {
        try {
            co_await std::invoke(body, group);
        } catch (...) {
            error = std::current_exception();
        }
        co_await group.exit(error);
    } else {
        std::optional<T> result;
        try {
            result.emplace(co_await std::invoke(body, group));
        } catch (...) {
            error = std::current_exception();
        }
        co_await group.exit(error);
        co_return std::move(*result);
    }
}
}  // namespace detail

/// `async with asyncio.TaskGroup() as tg:` — runs `body(tg)` (a coroutine callable taking
/// `aio::TaskGroup&`), then waits for every child, and returns the body's result.
/// `body` is kept alive until the group is done.
/// Cancellation: Cancel-safe: the children and the body are cancelled and awaited before
/// CancelledError propagates.
/// Thread-safety: loop-affine.
template <class F>
[[nodiscard]] auto task_group(F body) {
    return detail::task_group_impl(std::move(body));
}

}  // namespace aio
