#include "aio/detail/io.hpp"

#include "runtime/loop_impl.hpp"

namespace aio::detail {

void IoRegistration::open(EventLoop& loop, int fd, bool ready_read, bool ready_write) {
    loop.impl().poller.add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, this);
    loop_ = &loop;
    fd_ = fd;
    ready_[kRead] = ready_read;
    ready_[kWrite] = ready_write;
    hup_ = false;
    closed_ = false;
    prev_ = nullptr;
    next_ = loop.io_head_;
    if (next_) next_->prev_ = this;
    loop.io_head_ = this;
}

void IoRegistration::defer_flush() noexcept {
    if (flush_queued_ || !loop_) return;
    flush_queued_ = true;
    flush_next_ = nullptr;
    flush_prev_ = loop_->flush_tail_;
    if (flush_prev_) {
        flush_prev_->flush_next_ = this;
    } else {
        loop_->flush_head_ = this;
    }
    loop_->flush_tail_ = this;
}

void run_deferred_flushes(EventLoop& loop) noexcept {
    while (IoRegistration* r = loop.flush_head_) {
        loop.flush_head_ = r->flush_next_;
        if (loop.flush_head_) {
            loop.flush_head_->flush_prev_ = nullptr;
        } else {
            loop.flush_tail_ = nullptr;
        }
        r->flush_queued_ = false;
        r->flush_next_ = nullptr;
        r->on_flush();
    }
}

void IoRegistration::close() noexcept {
    if (!loop_) return;
    if (flush_queued_) {
        (flush_prev_ ? flush_prev_->flush_next_ : loop_->flush_head_) = flush_next_;
        (flush_next_ ? flush_next_->flush_prev_ : loop_->flush_tail_) = flush_prev_;
        flush_queued_ = false;
        flush_prev_ = flush_next_ = nullptr;
    }
    loop_->impl().poller.remove(fd_);
    if (prev_) {
        prev_->next_ = next_;
    } else {
        loop_->io_head_ = next_;
    }
    if (next_) next_->prev_ = prev_;
    prev_ = next_ = nullptr;
    loop_ = nullptr;
    closed_ = true;
    for (IoReadyAwaiter*& w : waiter_) {
        if (IoReadyAwaiter* waiter = std::exchange(w, nullptr)) waiter->fire();
    }
}

void IoRegistration::on_events(std::uint32_t events) {
    // Errors and hang-ups make both directions "ready": the next syscall reports them.
    const bool bad = events & (EPOLLERR | EPOLLHUP);
    if (events & (EPOLLRDHUP | EPOLLHUP)) hup_ = true;
    if (bad || (events & (EPOLLIN | EPOLLRDHUP))) {
        ready_[kRead] = true;
        if (IoReadyAwaiter* w = std::exchange(waiter_[kRead], nullptr)) w->fire();
    }
    if (bad || (events & EPOLLOUT)) {
        ready_[kWrite] = true;
        on_writable();
        if (!loop_) return;  // on_writable may have closed the registration
        if (IoReadyAwaiter* w = std::exchange(waiter_[kWrite], nullptr)) w->fire();
    }
}

}  // namespace aio::detail
