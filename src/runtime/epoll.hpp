// The epoll backend behind EventLoop (private to src/).
#pragma once

#include <sys/epoll.h>

#include <cstdint>

namespace aio::detail {

/// Something registered with epoll; `data.ptr` points at it.
struct IoSource {
    virtual void on_events(std::uint32_t events) = 0;

protected:
    ~IoSource() = default;
};

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

private:
    int epfd_;
    epoll_event events_[256];
};

}  // namespace aio::detail
