// URLs and query strings (yarl.URL and urllib.parse): parsing, joining, percent-coding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aio/exceptions.hpp"

namespace aio::http {

/// A URL that could not be parsed, or that lacks a part it needs (aiohttp's InvalidURL).
/// The message quotes the URL and says what was wrong.
class InvalidURL : public ValueError {
public:
    using ValueError::ValueError;
};

/// Query parameters in order; a name may repeat (`?tag=a&tag=b`).
using QueryItems = std::vector<std::pair<std::string, std::string>>;

/// An absolute or relative URL, parsed per RFC 3986 (yarl.URL).
///
/// Parts keep their percent-encoding as given (`path()` of "/a%20b" is "/a%20b"); the
/// host is lower-cased and an IPv6 literal keeps its brackets off (`host()` of
/// "http://[::1]:8080/" is "::1"). Non-ASCII host names (IDNA) are refused.
/// Thread-safety: a plain value type.
class URL {
public:
    URL() = default;
    /// Parses `text`; throws InvalidURL saying what is wrong (bad scheme, bad port, spaces,
    /// control characters, non-ASCII host...).
    explicit URL(std::string_view text);

    [[nodiscard]] const std::string& scheme() const noexcept { return scheme_; }
    [[nodiscard]] const std::string& user() const noexcept { return user_; }
    [[nodiscard]] const std::string& password() const noexcept { return password_; }
    [[nodiscard]] const std::string& host() const noexcept { return host_; }
    /// The explicit port, or the scheme's default (80 for http, 443 for https), or 0.
    [[nodiscard]] std::uint16_t port() const noexcept;
    [[nodiscard]] bool has_explicit_port() const noexcept { return has_port_; }
    /// The path, "/" when an absolute URL has none.
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    /// The query without its "?" (still percent-encoded).
    [[nodiscard]] const std::string& query_string() const noexcept { return query_; }
    [[nodiscard]] const std::string& fragment() const noexcept { return fragment_; }
    /// The decoded query parameters.
    [[nodiscard]] QueryItems query() const;

    /// Has a scheme and a host.
    [[nodiscard]] bool is_absolute() const noexcept { return !scheme_.empty() && !host_.empty(); }
    /// "https" (or "wss").
    [[nodiscard]] bool is_secure() const noexcept { return scheme_ == "https" || scheme_ == "wss"; }
    /// The request target: path plus "?query" when there is one.
    [[nodiscard]] std::string target() const;
    /// The `Host` header value: host, bracketed for IPv6, with ":port" unless default.
    [[nodiscard]] std::string authority() const;
    /// scheme://authority, the key a connection pool groups by.
    [[nodiscard]] std::string origin() const;

    /// Resolves `reference` against this URL (RFC 3986 §5.2), as a browser follows a link
    /// or a Location header.
    [[nodiscard]] URL join(std::string_view reference) const;
    /// This URL with its query replaced by `params`, encoded.
    [[nodiscard]] URL with_query(const QueryItems& params) const;
    /// This URL with `params` appended to its query.
    [[nodiscard]] URL extend_query(const QueryItems& params) const;
    /// This URL without its fragment.
    [[nodiscard]] URL without_fragment() const;
    /// The URL as text, re-assembled from its parts.
    [[nodiscard]] std::string str() const;

    friend bool operator==(const URL& a, const URL& b) { return a.str() == b.str(); }

private:
    static std::string printable_char(char c);

    std::string scheme_, user_, password_, host_, path_, query_, fragment_;
    std::uint16_t port_ = 0;
    bool has_port_ = false;
    bool has_authority_ = false;
};

/// Percent-encodes every byte outside RFC 3986's unreserved set and `safe`
/// (urllib.parse.quote).
[[nodiscard]] std::string quote(std::string_view text, std::string_view safe = "/");
/// Decodes %XX escapes (and '+' as space when `plus_is_space`); a malformed escape is kept
/// as it is, as urllib.parse.unquote does.
[[nodiscard]] std::string unquote(std::string_view text, bool plus_is_space = false);
/// Splits "a=1&b=x%20y" into decoded pairs (urllib.parse.parse_qsl, keep_blank_values).
[[nodiscard]] QueryItems parse_qsl(std::string_view query);
/// Encodes pairs as application/x-www-form-urlencoded (urllib.parse.urlencode).
[[nodiscard]] std::string urlencode(const QueryItems& params);

}  // namespace aio::http
