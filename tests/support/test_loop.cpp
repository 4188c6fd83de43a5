#include "test_loop.hpp"

#include <dirent.h>

namespace aio::test {

int open_fd_count() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

TestLoop::TestLoop(bool virtual_time) : fds_before_(open_fd_count()), loop_(std::make_unique<EventLoop>(virtual_time)), start_(loop_->time()) {
    loop_->set_exception_handler([this](EventLoop&, const ExceptionContext& c) { reports_.push_back(c); });
}

TestLoop::~TestLoop() = default;

void TestLoop::run_briefly() {
    EventLoop* saved = std::exchange(detail::tl_running_loop, loop_.get());
    loop_->run_once(false);
    detail::tl_running_loop = saved;
}

void TestLoop::run_until_idle() {
    EventLoop* saved = std::exchange(detail::tl_running_loop, loop_.get());
    // One iteration moves due timers to the ready queue; keep going until nothing is ready.
    do {
        loop_->run_once(false);
    } while (loop_->ready_count() > 0 || loop_->next_timer() <= loop_->time());
    detail::tl_running_loop = saved;
}

void TestLoop::step() {
    if (loop_->ready_count() == 0) {
        Clock::time_point next = loop_->next_timer();
        if (next != Clock::time_point::max() && next > loop_->time()) loop_->advance_virtual_time(next - loop_->time());
    }
    run_briefly();
}

void TestLoop::advance(Clock::duration d) {
    const Clock::time_point target = loop_->time() + d;
    for (;;) {
        run_until_idle();
        Clock::time_point next = loop_->next_timer();
        if (next > target) break;
        // Step to each deadline in turn so work scheduled on the way sees the right time.
        if (next > loop_->time()) loop_->advance_virtual_time(next - loop_->time());
    }
    if (loop_->time() < target) loop_->advance_virtual_time(target - loop_->time());
    run_until_idle();
}

std::vector<ExceptionContext> TestLoop::take_reports() { return std::exchange(reports_, {}); }

void TestLoop::run_test(Coro<void> body) {
    loop_->run_until_complete(std::move(body));
    run_until_idle();
    detail::tl_running_loop = loop_.get();
    std::vector<AnyTask> left = all_tasks();
    detail::tl_running_loop = nullptr;
    for (const auto& t : left) ADD_FAILURE() << "test left task " << t.get_name() << " pending";
    EXPECT_EQ(loop_->timer_count(), 0u) << "test left timers queued";
    for (const auto& r : reports_)
        ADD_FAILURE() << "unexpected exception-handler call: " << r.message << " task=" << r.task
                      << (r.exception ? " exception=" + describe(r.exception) : std::string());
    reports_.clear();
    loop_->shutdown_default_executor();
    loop_->set_exception_handler({});
    loop_.reset();
    EXPECT_EQ(open_fd_count(), fds_before_) << "file descriptors leaked";
}

}  // namespace aio::test
