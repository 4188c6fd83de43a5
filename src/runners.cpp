#include "aio/runners.hpp"

#include <unistd.h>

#include <csignal>
#include <thread>

#include "aio/exceptions.hpp"

namespace aio {

Runner::Runner(RunOptions options) : loop_(std::make_unique<EventLoop>()) {
    if (options.debug) loop_->set_debug(true);
}

Runner::~Runner() {
    try {
        close();
    } catch (...) {
        EventLoop::default_exception_handler({"error while closing the Runner", std::current_exception(), {}, {}});
    }
}

void Runner::check_not_nested() const {
    if (detail::tl_running_loop)
        throw RuntimeError("RuntimeError: aio::run() cannot be called from a running event loop");
    if (closed_) throw RuntimeError("RuntimeError: Runner is closed");
}

namespace {
bool is_main_thread() { return ::getpid() == static_cast<pid_t>(::gettid()); }

bool sigint_is_default() {
    struct sigaction current {};
    ::sigaction(SIGINT, nullptr, &current);
    return current.sa_handler == SIG_DFL;
}
}  // namespace

void Runner::drive(AnyTask main) {
    // Ctrl-C cancels the main task once; a second one aborts (asyncio.Runner._on_sigint).
    const bool own_sigint = is_main_thread() && sigint_is_default();
    if (own_sigint) {
        loop_->add_signal_handler(SIGINT, [this, main]() mutable {
            if (interrupted_ || main.done()) {
                ::signal(SIGINT, SIG_DFL);
                ::raise(SIGINT);
                return;
            }
            interrupted_ = true;
            main.cancel("interrupted by Ctrl-C");
        });
    }
    AnyTask handle = main;
    handle.add_done_callback([loop = loop_.get()](const AnyTask&) { loop->stop(); });
    loop_->run_forever();
    if (own_sigint) loop_->remove_signal_handler(SIGINT);
    if (!main.done()) throw RuntimeError("RuntimeError: Event loop stopped before the main task completed.");
}

void Runner::wait_all(std::vector<AnyTask>& tasks) {
    std::size_t pending = 0;
    for (auto& t : tasks) {
        if (t.done()) continue;
        ++pending;
        t.add_done_callback([&pending, loop = loop_.get()](const AnyTask&) {
            if (--pending == 0) loop->stop();
        });
    }
    if (pending > 0) loop_->run_forever();
}

void Runner::cancel_leftovers() {
    // asyncio.runners._cancel_all_tasks: cancel, then wait for all of them together.
    detail::tl_running_loop = loop_.get();
    std::vector<AnyTask> left = all_tasks();
    detail::tl_running_loop = nullptr;
    if (left.empty()) return;
    for (auto& t : left) t.cancel();
    wait_all(left);
    for (auto& t : left) {
        if (t.done() && !t.cancelled()) {
            if (std::exception_ptr e = t.exception())
                loop_->call_exception_handler(
                    {"unhandled exception during aio::run() shutdown", e, t.get_name(), {}});
        }
    }
}

void Runner::shutdown_asyncgens() {
    // asyncio's loop.shutdown_asyncgens(): aclose() every generator still suspended, so
    // its async cleanup runs.
    std::vector<detail::AsyncGenHook*> live;
    for (detail::AsyncGenHook* h = loop_->agens_head_; h; h = h->next_gen) live.push_back(h);
    if (live.empty()) return;
    std::vector<AnyTask> closing;
    for (detail::AsyncGenHook* h : live) closing.push_back(detail::create_task_on(*loop_, h->aclose_fn(h)));
    wait_all(closing);
    for (auto& t : closing) {
        if (t.done() && !t.cancelled()) {
            if (std::exception_ptr e = t.exception())
                loop_->call_exception_handler({"an error occurred during closing of asynchronous generator", e, {}, {}});
        }
    }
}

void Runner::close() {
    if (closed_) return;
    closed_ = true;
    cancel_leftovers();
    shutdown_asyncgens();
    loop_->shutdown_default_executor();
    loop_->close();
    if (interrupted_) {
        // Die of SIGINT like an interrupted CPython process (status 130 in the shell).
        ::signal(SIGINT, SIG_DFL);
        ::raise(SIGINT);
    }
}

}  // namespace aio
