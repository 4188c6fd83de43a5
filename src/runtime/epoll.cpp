#include "runtime/epoll.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace aio::detail {

Poller::Poller() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epfd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

Poller::~Poller() { ::close(epfd_); }

void Poller::add(int fd, std::uint32_t events, IoSource* source) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = source;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0)
        throw std::system_error(errno, std::generic_category(), "epoll_ctl(ADD) fd " + std::to_string(fd));
    ++registered_;
}

void Poller::modify(int fd, std::uint32_t events, IoSource* source) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = source;
    if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) < 0)
        throw std::system_error(errno, std::generic_category(), "epoll_ctl(MOD) fd " + std::to_string(fd));
}

void Poller::remove(int fd) noexcept {
    if (::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr) == 0) --registered_;
}

int Poller::wait(int timeout_ms) {
    int n = ::epoll_wait(epfd_, events_, 256, timeout_ms);
    if (n < 0) {
        if (errno == EINTR) return 0;
        throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    for (int i = 0; i < n; ++i) static_cast<IoSource*>(events_[i].data.ptr)->on_events(events_[i].events);
    return n;
}

}  // namespace aio::detail
