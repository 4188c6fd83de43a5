#include "report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace aiofetch {

std::string to_json_line(const Result& r) {
    nlohmann::json j = {
        {"url", r.url},
        {"status", r.status},
        {"bytes", r.bytes},
        {"elapsed_ms", std::round(r.elapsed_ms * 10) / 10},
        {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)},
        {"attempts", r.attempts},
        {"depth", r.depth},
    };
    // Bytes from the network are not always UTF-8: replace rather than throw.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Summary::add(const Result& r) {
    ++count_;
    if (r.error.empty() && r.status > 0 && r.status < 400) ++ok_;
    bytes_ += r.bytes;
    ++statuses_[r.status];
    if (!r.error.empty()) ++errors_[r.error.substr(0, r.error.find(':'))];
    latencies_.push_back(r.elapsed_ms);
}

double Summary::latency_percentile(double p) const {
    if (latencies_.empty()) return 0;
    std::vector<double> sorted = latencies_;
    std::sort(sorted.begin(), sorted.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

namespace {

std::string human_bytes(std::uint64_t n) {
    if (n < 1024) return fmt::format("{} B", n);
    if (n < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024);
    return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1024 * 1024));
}

}  // namespace

void Summary::print(std::FILE* out, double wall_seconds) const {
    fmt::print(out, "\n{} URLs in {:.2f} s ({:.1f}/s): {} ok, {} failed, {} received\n", count_, wall_seconds,
               wall_seconds > 0 ? static_cast<double>(count_) / wall_seconds : 0.0, ok_, failed(), human_bytes(bytes_));
    if (count_ == 0) return;
    std::string statuses;
    for (const auto& [status, n] : statuses_) {
        statuses += fmt::format("  {}: {}", status == 0 ? std::string("no response") : std::to_string(status), n);
    }
    fmt::print(out, "status:{}\n", statuses);
    for (const auto& [kind, n] : errors_) fmt::print(out, "error:  {} x {}\n", n, kind);
    fmt::print(out, "latency: p50 {:.1f} ms  p95 {:.1f} ms  max {:.1f} ms\n", latency_percentile(50),
               latency_percentile(95), latency_percentile(100));
}

void Progress::show(const Summary& s, std::size_t total, double seconds) {
    const double rate = seconds > 0 ? static_cast<double>(s.count()) / seconds : 0;
    if (!terminal_) {
        fmt::print(out_, "progress: {}/{} done, {} ok, {} failed, {:.1f}/s\n", s.count(), total, s.ok(), s.failed(), rate);
        std::fflush(out_);
        return;
    }
    constexpr int kWidth = 30;
    const double frac = total ? static_cast<double>(s.count()) / static_cast<double>(total) : 0;
    const int filled = std::clamp(static_cast<int>(frac * kWidth), 0, kWidth);
    fmt::print(out_, "\r\x1b[2K[{}{}] {}/{}  ok {}  failed {}  {:.1f}/s", std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(kWidth - filled), '.'), s.count(), total, s.ok(), s.failed(), rate);
    std::fflush(out_);
    drawn_ = true;
}

void Progress::finish() {
    if (terminal_ && drawn_) {
        fmt::print(out_, "\n");
        std::fflush(out_);
    }
    drawn_ = false;
}

}  // namespace aiofetch
