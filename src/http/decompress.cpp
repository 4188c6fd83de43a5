#include "http/decompress.hpp"

#include <stdexcept>

#include "aio/http/headers.hpp"

namespace aio::http::detail {

std::unique_ptr<Decompressor> Decompressor::for_encoding(std::string_view encoding) {
    if (iequals(encoding, "gzip") || iequals(encoding, "x-gzip")) return std::unique_ptr<Decompressor>(new Decompressor(true));
    if (iequals(encoding, "deflate")) return std::unique_ptr<Decompressor>(new Decompressor(false));
    return nullptr;
}

Decompressor::Decompressor(bool gzip) : gzip_(gzip) { reset(gzip ? 16 + MAX_WBITS : MAX_WBITS); }

Decompressor::~Decompressor() { inflateEnd(&z_); }

void Decompressor::reset(int window_bits) {
    if (started_) inflateEnd(&z_);
    z_ = z_stream{};
    if (inflateInit2(&z_, window_bits) != Z_OK) throw std::runtime_error("zlib: inflateInit2 failed");
    started_ = true;
}

void Decompressor::feed(std::string_view in, std::string& out) {
    if (finished_) {
        if (!in.empty()) throw std::runtime_error("data after the end of the compressed body");
        return;
    }
    const bool first = z_.total_in == 0;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    char buf[16 * 1024];
    while (z_.avail_in > 0) {
        z_.next_out = reinterpret_cast<Bytef*>(buf);
        z_.avail_out = sizeof buf;
        int rc = inflate(&z_, Z_NO_FLUSH);
        if (rc == Z_DATA_ERROR && !gzip_ && first && !raw_tried_) {
            // Not zlib-wrapped: retry the same bytes as raw deflate.
            raw_tried_ = true;
            reset(-MAX_WBITS);
            feed(in, out);
            return;
        }
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            throw std::runtime_error(std::string("cannot decode the ") + (gzip_ ? "gzip" : "deflate") + " body: " +
                                     (z_.msg ? z_.msg : "corrupt data"));
        }
        out.append(buf, sizeof buf - z_.avail_out);
        if (rc == Z_STREAM_END) {
            finished_ = true;
            if (z_.avail_in > 0) throw std::runtime_error("data after the end of the compressed body");
            break;
        }
        if (rc == Z_BUF_ERROR && z_.avail_out != 0) break;
    }
}

}  // namespace aio::http::detail
