// The loop's cold state: epoll, cross-thread queue, fd watches, signals (private).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "aio/loop.hpp"
#include "runtime/epoll.hpp"

namespace aio::detail {

struct LoopImpl;

struct WakeSource final : IoSource {
    int fd = -1;  // eventfd written by call_soon_threadsafe
    void on_events(std::uint32_t events) override;
};

struct SignalSource final : IoSource {
    int read_fd = -1;
    int write_fd = -1;
    LoopImpl* impl = nullptr;
    void on_events(std::uint32_t events) override;
};

/// add_reader/add_writer registration of one fd (level-triggered).
struct FdWatch final : IoSource {
    FdWatch(LoopImpl* i, int f) : impl(i), fd(f) {}
    LoopImpl* impl;
    int fd;
    bool registered = false;
    std::function<void()> reader;
    std::function<void()> writer;
    void on_events(std::uint32_t events) override;
};

struct LoopImpl {
    explicit LoopImpl(EventLoop* l);
    ~LoopImpl();
    void update_watch(int fd);
    void drain_remote();

    EventLoop* loop;
    Poller poller;
    WakeSource wake;
    SignalSource signals;
    std::mutex remote_mutex;
    std::vector<std::function<void()>> remote;
    std::atomic<bool> remote_pending{false};
    std::unordered_map<int, std::unique_ptr<FdWatch>> watches;
    std::unordered_map<int, std::function<void()>> signal_handlers;
    EventLoop::ExceptionHandler exception_handler;
    std::shared_ptr<ThreadPoolExecutor> default_executor;
    std::vector<std::pair<const void*, std::unique_ptr<EventLoop::Service>>> services;
};

/// At loop close: reports tasks still pending and destroys their frames (task.cpp).
void close_pending_tasks(EventLoop& loop) noexcept;

}  // namespace aio::detail
