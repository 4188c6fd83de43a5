// What aiofetch reports: one JSON line per URL, a live progress line, and a summary.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace aiofetch {

/// The outcome of fetching one URL.
struct Result {
    std::string url;
    int status = 0;           // 0 when no response arrived
    std::uint64_t bytes = 0;  // body bytes received
    double elapsed_ms = 0;    // from the first attempt to the end of the body
    std::string error;        // empty on success, else "ClientConnectorError: ..." etc.
    int attempts = 1;
    int depth = 0;            // link distance from a start URL when crawling
};

/// {"url":…, "status":…, "bytes":…, "elapsed_ms":…, "error":…, "attempts":…, "depth":…}
[[nodiscard]] std::string to_json_line(const Result& r);

/// Totals over every result, printed at the end.
class Summary {
public:
    void add(const Result& r);
    [[nodiscard]] std::size_t count() const noexcept { return count_; }
    [[nodiscard]] std::size_t ok() const noexcept { return ok_; }
    [[nodiscard]] std::size_t failed() const noexcept { return count_ - ok_; }
    [[nodiscard]] std::uint64_t bytes() const noexcept { return bytes_; }
    /// Status codes seen, and how often (0: no response).
    [[nodiscard]] const std::map<int, std::size_t>& statuses() const noexcept { return statuses_; }
    /// Errors by kind (the part of the message before ':').
    [[nodiscard]] const std::map<std::string, std::size_t>& errors() const noexcept { return errors_; }
    /// The `p`-th percentile (0..100) of elapsed_ms over the results.
    [[nodiscard]] double latency_percentile(double p) const;
    /// Writes the summary, with `wall_seconds` the run's duration.
    void print(std::FILE* out, double wall_seconds) const;

private:
    std::size_t count_ = 0, ok_ = 0;
    std::uint64_t bytes_ = 0;
    std::map<int, std::size_t> statuses_;
    std::map<std::string, std::size_t> errors_;
    std::vector<double> latencies_;
};

/// A progress display on `out`: a redrawn bar on a terminal, a plain line per call
/// otherwise (a log file or a pipe gets no control characters).
class Progress {
public:
    Progress(std::FILE* out, bool terminal) : out_(out), terminal_(terminal) {}
    /// Shows `summary` against `total` known URLs after `seconds`.
    void show(const Summary& summary, std::size_t total, double seconds);
    /// Ends the bar's line (terminal) so the summary starts on its own line.
    void finish();
    [[nodiscard]] bool terminal() const noexcept { return terminal_; }

private:
    std::FILE* out_;
    bool terminal_;
    bool drawn_ = false;
};

}  // namespace aiofetch
