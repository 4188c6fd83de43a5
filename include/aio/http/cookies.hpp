// The HTTP client's cookie store: Set-Cookie parsing, matching and expiry per RFC 6265
// (aiohttp.CookieJar).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "aio/http/headers.hpp"
#include "aio/http/url.hpp"

namespace aio::http {

/// One stored cookie (RFC 6265 §5.3's cookie record, without the access time).
/// Thread-safety: a plain value type.
struct Cookie {
    std::string name;
    std::string value;
    /// Lower-case, without a leading dot. Empty: sent to every host (a cookie given to
    /// CookieJar::set without a domain, as aiohttp's shared cookies).
    std::string domain;
    std::string path = "/";
    /// When it expires; none for a session cookie (kept until the jar is cleared).
    std::optional<std::chrono::system_clock::time_point> expires = {};
    bool secure = false;     // sent over https only
    bool http_only = false;  // recorded; every client request is an HTTP API
    /// Sent to `domain` only, not to its subdomains (the Set-Cookie had no Domain).
    bool host_only = false;
    /// "Strict", "Lax", "None", or empty when the server said nothing (or something else).
    std::string same_site;
};

/// How many cookies a jar keeps. Beyond a limit the oldest cookies (by creation) go first,
/// after the expired ones (RFC 6265 §5.3 step 12 and §6.1). 0 means no limit.
struct CookieLimits {
    std::size_t per_domain = 50;   // cookies sharing one domain
    std::size_t total = 3000;
    std::size_t max_size = 4096;   // name plus value, bytes; a larger cookie is ignored
};

namespace detail {
/// Throws aio::ValueError unless `name` is a token and `value` holds no ';', no space at
/// either end and no control character: what may be sent as name=value in a Cookie header.
void check_cookie_pair(std::string_view name, std::string_view value);
}  // namespace detail

/// A cookie jar (aiohttp.CookieJar): stores what responses set with Set-Cookie and says
/// which cookies go with a request.
///
/// Follows RFC 6265 §5: the parsing algorithm of §5.2 (a cookie it cannot make sense of
/// is ignored, never an error), the date formats of §5.1.1, domain and path matching of
/// §5.1.3 and §5.1.4, and the storage model of §5.3. Max-Age wins over Expires; a cookie
/// that is already expired deletes the stored one of the same name, domain and path.
/// Without a Domain attribute a cookie is host-only. A Domain the request host does not
/// domain-match is refused, and so is a Domain on a request to an IP address unless it
/// is that address (then the cookie is host-only, as browsers do). Lacking a public
/// suffix list, a single-label Domain ("com", "localhost") is accepted only from that
/// very host, and then as host-only. Unlike aiohttp's default jar, cookies from IP
/// address hosts are kept (aiohttp needs `unsafe=True` for that).
///
/// Expiry uses std::chrono::system_clock, or the clock given to the constructor.
/// Thread-safety: loop-affine (not synchronised; one session's loop uses it).
class CookieJar {
public:
    using time_point = std::chrono::system_clock::time_point;
    /// Returns the current time; tests pass a fake one so they never sleep.
    using NowFunction = std::function<time_point()>;

    CookieJar() = default;
    /// A jar with other limits, and a clock other than system_clock::now when `now` is set.
    explicit CookieJar(CookieLimits limits, NowFunction now = {});

    /// Stores the cookies of every Set-Cookie header of a response to `response_url`
    /// (aiohttp's update_cookies(response.cookies, response.url)). Malformed cookies, and
    /// cookies the URL may not set, are ignored.
    void update_cookies(const Headers& response_headers, const URL& response_url);
    /// Stores the cookie of one Set-Cookie header value received from `response_url`.
    /// Returns false when the cookie was ignored (malformed, too large, or not for that
    /// URL); an accepted cookie that is already expired deletes its namesake instead.
    bool set_cookie(std::string_view set_cookie_value, const URL& response_url);
    /// Stores `name=value` for `domain` (leading dot ignored) and its subdomains, or for
    /// every host when `domain` is empty (aiohttp's update_cookies with a dict). A session
    /// cookie, not Secure. Throws aio::ValueError for a name that is not a token, a value
    /// holding ';', a tab or a control character, a name and value over the size limit, a
    /// domain holding ' ', ';', ',' or '/', or a path not starting with '/'.
    void set(std::string_view name, std::string_view value, std::string_view domain, std::string_view path = "/");
    /// Stores `cookie` as it is (after the checks of set() and lower-casing its domain),
    /// e.g. one saved earlier from cookies(). An expired cookie deletes its namesake.
    void set(Cookie cookie);

    /// The cookies to send with a request to `request_url` (aiohttp's filter_cookies):
    /// unexpired, domain- and path-matching, Secure ones only for https (and wss); longer
    /// paths first, then earlier created (RFC 6265 §5.4).
    [[nodiscard]] std::vector<Cookie> filter_cookies(const URL& request_url) const;
    /// The value of the Cookie header for `request_url` ("a=1; b=2"), empty when no
    /// cookie applies.
    [[nodiscard]] std::string cookie_header(const URL& request_url) const;

    /// Every unexpired cookie, oldest first.
    [[nodiscard]] std::vector<Cookie> cookies() const;
    /// How many unexpired cookies the jar holds.
    [[nodiscard]] std::size_t size() const;
    [[nodiscard]] bool empty() const { return size() == 0; }
    /// Removes every cookie.
    void clear() noexcept;
    /// Removes the cookies of `domain` and its subdomains (aiohttp's clear_domain).
    void clear_domain(std::string_view domain);
    /// Removes the expired cookies now (they are never sent; this frees their memory).
    void remove_expired();

private:
    struct Entry {
        Cookie cookie;
        std::uint64_t created;  // creation order; kept when a cookie is replaced
    };

    [[nodiscard]] time_point now() const;
    void store(Cookie cookie, time_point now);
    void enforce_limits(const std::string& domain, time_point now);
    void erase_oldest(std::vector<Entry>* only);

    CookieLimits limits_;
    NowFunction now_;
    // Keyed by Cookie::domain: a request looks up its host and each parent domain.
    std::unordered_map<std::string, std::vector<Entry>> by_domain_;
    std::size_t count_ = 0;  // stored entries, expired ones included
    std::uint64_t next_created_ = 0;
};

}  // namespace aio::http
