// Streaming gzip/deflate decoding of response bodies (zlib), private to aio::http.
#pragma once

#include <zlib.h>

#include <memory>
#include <string>
#include <string_view>

namespace aio::http::detail {

/// Inflates a Content-Encoding: gzip or deflate body piece by piece. "deflate" is zlib
/// data by the RFC, but some servers send raw deflate; both are accepted.
class Decompressor {
public:
    /// nullptr when `encoding` is not one this decodes (identity, br...).
    static std::unique_ptr<Decompressor> for_encoding(std::string_view encoding);
    ~Decompressor();
    Decompressor(const Decompressor&) = delete;
    Decompressor& operator=(const Decompressor&) = delete;

    /// Decodes `in`, appending to `out`. Throws std::runtime_error naming the problem.
    void feed(std::string_view in, std::string& out);
    /// The compressed stream reached its end.
    [[nodiscard]] bool finished() const noexcept { return finished_; }

private:
    explicit Decompressor(bool gzip);
    void reset(int window_bits);

    z_stream z_{};
    bool gzip_;
    bool started_ = false;
    bool finished_ = false;
    bool raw_tried_ = false;
};

}  // namespace aio::http::detail
