#include "fake_dns.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>

namespace aio::test {

FakeDns::FakeDns(Mode mode) : silent_(mode == Mode::silent) {
    records_["test.example"] = {"10.1.2.3"};
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
        ADD_FAILURE() << "FakeDns: cannot bind a UDP socket on 127.0.0.1";
        return;
    }
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    thread_ = std::thread([this] { serve(); });
}

FakeDns::~FakeDns() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
}

void FakeDns::add(const std::string& name, std::vector<std::string> ipv4s) {
    std::lock_guard lock(mutex_);
    records_[name] = std::move(ipv4s);
}

void FakeDns::serve() {
    while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 10) <= 0) continue;
        unsigned char buf[512];
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 12) continue;
        ++queries_;
        if (silent_) continue;
        std::string reply = respond(buf, static_cast<std::size_t>(n));
        if (reply.empty()) continue;
        if (int d = delay_ms_.load(); d > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d));
        ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
}

std::string FakeDns::respond(const unsigned char* q, std::size_t n) {
    if (q[4] != 0 || q[5] != 1) return {};  // exactly one question
    std::size_t i = 12;
    std::string name;
    while (i < n && q[i] != 0) {
        const std::size_t label = q[i];
        if (label > 63 || i + 1 + label > n) return {};
        if (!name.empty()) name += '.';
        for (std::size_t k = 0; k < label; ++k) name += static_cast<char>(std::tolower(q[i + 1 + k]));
        i += 1 + label;
    }
    if (i + 5 > n) return {};
    const int qtype = (q[i + 1] << 8) | q[i + 2];
    i += 5;  // the root label, QTYPE, QCLASS
    std::vector<std::string> addrs;
    bool known = false;
    {
        std::lock_guard lock(mutex_);
        auto it = records_.find(name);
        known = it != records_.end();
        if (known && qtype == 1) addrs = it->second;
    }
    std::string out(reinterpret_cast<const char*>(q), i);  // header and question
    out[2] = static_cast<char>(0x84 | (q[2] & 0x01));      // response, authoritative, RD as asked
    out[3] = static_cast<char>(known ? 0x80 : 0x83);       // RA; NOERROR or NXDOMAIN
    out[6] = 0;
    out[7] = static_cast<char>(addrs.size());              // answers
    out[8] = out[9] = out[10] = out[11] = 0;               // no authority, no additional
    for (const std::string& a : addrs) {
        unsigned char rr[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
        ::inet_pton(AF_INET, a.c_str(), rr + 12);
        out.append(reinterpret_cast<const char*>(rr), sizeof rr);
    }
    return out;
}

}  // namespace aio::test
