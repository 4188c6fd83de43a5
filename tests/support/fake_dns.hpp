// A tiny DNS server for tests: UDP on 127.0.0.1, its own thread. Names get the A records
// given to `add()` ("test.example" → 10.1.2.3 from the start), other record types of a
// known name an empty answer, unknown names NXDOMAIN. Silent, it reads queries and never
// answers; with a delay, it answers late.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace aio::test {

class FakeDns {
public:
    enum class Mode { answer, silent };

    explicit FakeDns(Mode mode = Mode::answer);
    ~FakeDns();
    FakeDns(const FakeDns&) = delete;
    FakeDns& operator=(const FakeDns&) = delete;

    /// "127.0.0.1:port", for dns::ResolverOptions::servers.
    [[nodiscard]] const std::string& address() const noexcept { return address_; }
    [[nodiscard]] int queries() const noexcept { return queries_.load(); }
    void set_silent(bool on) noexcept { silent_ = on; }
    void set_delay(std::chrono::milliseconds d) noexcept { delay_ms_ = static_cast<int>(d.count()); }
    /// Answers A queries for `name` with `ipv4s`, in this order.
    void add(const std::string& name, std::vector<std::string> ipv4s);

private:
    void serve();
    std::string respond(const unsigned char* q, std::size_t n);

    int fd_ = -1;
    std::string address_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> silent_;
    std::atomic<int> delay_ms_{0};
    std::atomic<int> queries_{0};
    std::mutex mutex_;
    std::map<std::string, std::vector<std::string>> records_;
    std::thread thread_;
};

}  // namespace aio::test
