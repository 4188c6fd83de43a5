// The epoll backend behind EventLoop (private to src/).
#pragma once

#include <sys/epoll.h>

#include <cstdint>

#include "aio/detail/io.hpp"

namespace aio::detail {

class Poller {
public:
    Poller();
    ~Poller();
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;

    void add(int fd, std::uint32_t events, IoSource* source);
    void modify(int fd, std::uint32_t events, IoSource* source);
    void remove(int fd) noexcept;
    /// Waits up to `timeout_ms` (-1: forever) and dispatches events; returns how many.
    int wait(int timeout_ms);
    /// File descriptors registered (an fd closed without remove() still counts).
    [[nodiscard]] std::size_t registered() const noexcept { return registered_; }

private:
    int epfd_;
    std::size_t registered_ = 0;
    epoll_event events_[256];
};

}  // namespace aio::detail
