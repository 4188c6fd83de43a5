// Fuzzes the pure HTTP/1.1 parsing functions and URL parsing: any input must be either
// parsed or refused with BadHttpMessage/InvalidURL, and what is accepted must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "aio/http/parser.hpp"
#include "aio/http/url.hpp"
#include "aio/http/wire.hpp"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

// A parsed head, written back out and parsed again, must give the same head.
void round_trip_request(const aio::http::RequestHead& req) {
    std::string out;
    aio::http::write_request_head(out, req.method, req.target, req.headers);
    auto again = aio::http::parse_request_head(out);
    check(again.method == req.method && again.target == req.target && again.headers == req.headers);
}

void round_trip_response(const aio::http::ResponseHead& resp) {
    std::string out;
    aio::http::write_response_head(out, resp.status, resp.reason, resp.headers);
    auto again = aio::http::parse_response_head(out);
    check(again.status == resp.status && again.reason == resp.reason && again.headers == resp.headers);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    try {
        auto req = aio::http::parse_request_head(input);
        try {
            auto framing = aio::http::request_framing(req);
            check(framing.kind != aio::http::BodyFraming::kUntilClose);
        } catch (const aio::http::BadHttpMessage& e) {
            check(e.status() == 400 || e.status() == 501);
        }
        round_trip_request(req);
    } catch (const aio::http::BadHttpMessage& e) {
        check(e.status() >= 400 && e.status() < 600);
    }
    try {
        auto resp = aio::http::parse_response_head(input);
        try {
            (void)aio::http::response_framing(resp, "GET");
        } catch (const aio::http::BadHttpMessage&) {
        }
        round_trip_response(resp);
    } catch (const aio::http::BadHttpMessage&) {
    }
    try {
        (void)aio::http::parse_chunk_size(input.substr(0, input.find('\n')));
    } catch (const aio::http::BadHttpMessage&) {
    }
    try {
        aio::http::URL url(input);
        std::string text = url.str();
        aio::http::URL again(text);
        check(again.str() == text);
        if (url.is_absolute()) (void)url.join(input.substr(input.size() / 2)).str();
    } catch (const aio::http::InvalidURL&) {
    }
    (void)aio::http::parse_qsl(input);
    check(aio::http::unquote(aio::http::quote(input, "")) == input);
    return 0;
}
