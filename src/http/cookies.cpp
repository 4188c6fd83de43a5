#include "aio/http/cookies.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "aio/exceptions.hpp"
#include "aio/http/parser.hpp"

namespace aio::http {

namespace {

using time_point = CookieJar::time_point;

// Attribute values longer than this are ignored (RFC 6265bis §5.6: 1024 bytes).
constexpr std::size_t kMaxAttributeValue = 1024;

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = lower(c);
    return out;
}

// Removes RFC 6265's WSP (space and horizontal tab) from both ends.
std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// CTLs other than tab: a Set-Cookie holding one is refused whole (RFC 6265bis §5.6).
bool has_control(std::string_view s) noexcept {
    return std::any_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t') || u == 0x7f;
    });
}

// A dotted quad or an IPv6 literal (URL::host() drops the brackets). A name made only of
// digits and dots cannot be a DNS name (no top-level domain is numeric), so it counts too.
bool is_ip_address(std::string_view host) noexcept {
    if (host.find(':') != std::string_view::npos) return true;
    return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return is_digit(c) || c == '.'; });
}

// RFC 6265 §5.1.3.
bool domain_match(std::string_view host, std::string_view domain) noexcept {
    if (host == domain) return true;
    return host.size() > domain.size() && host.ends_with(domain) && host[host.size() - domain.size() - 1] == '.' &&
           !is_ip_address(host);
}

// RFC 6265 §5.1.4: the request path up to, not including, its last '/' ("/" at least).
std::string default_path(std::string_view uri_path) {
    if (uri_path.empty() || uri_path.front() != '/') return "/";
    const auto last = uri_path.rfind('/');
    if (last == 0) return "/";
    return std::string(uri_path.substr(0, last));
}

// RFC 6265 §5.1.4.
bool path_match(std::string_view request_path, std::string_view cookie_path) noexcept {
    if (request_path.empty() || request_path.front() != '/') request_path = "/";
    if (request_path == cookie_path) return true;
    if (!request_path.starts_with(cookie_path)) return false;
    return cookie_path.back() == '/' || request_path[cookie_path.size()] == '/';
}

// Seconds since the epoch to a time_point, clamped to what system_clock can hold (its
// nanosecond ticks end in 2262; a cookie may say 9999).
time_point from_unix_seconds(std::int64_t secs) noexcept {
    using std::chrono::duration_cast;
    using std::chrono::seconds;
    constexpr std::int64_t kMax = duration_cast<seconds>(time_point::max().time_since_epoch()).count() - 1;
    constexpr std::int64_t kMin = duration_cast<seconds>(time_point::min().time_since_epoch()).count() + 1;
    if (secs >= kMax) return time_point::max();
    if (secs <= kMin) return time_point::min();
    return time_point(duration_cast<time_point::duration>(seconds(secs)));
}

// ---- Dates (RFC 6265 §5.1.1) ------------------------------------------------------------

bool is_date_delimiter(char ch) noexcept {
    auto c = static_cast<unsigned char>(ch);
    return c == 0x09 || (c >= 0x20 && c <= 0x2F) || (c >= 0x3B && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
           (c >= 0x7B && c <= 0x7E);
}

// Reads `min`..`max` digits at `pos`; the value, or -1 when there are too few.
int read_digits(std::string_view s, std::size_t& pos, std::size_t min, std::size_t max) noexcept {
    int v = 0;
    std::size_t n = 0;
    while (pos < s.size() && n < max && is_digit(s[pos])) {
        v = v * 10 + (s[pos] - '0');
        ++pos;
        ++n;
    }
    return n < min ? -1 : v;
}

// After a numeric production: the token must end or go on with a non-digit.
bool ends_number(std::string_view s, std::size_t pos) noexcept { return pos == s.size() || !is_digit(s[pos]); }

bool parse_time(std::string_view tok, int& h, int& m, int& sec) noexcept {
    std::size_t pos = 0;
    h = read_digits(tok, pos, 1, 2);
    if (h < 0 || pos >= tok.size() || tok[pos++] != ':') return false;
    m = read_digits(tok, pos, 1, 2);
    if (m < 0 || pos >= tok.size() || tok[pos++] != ':') return false;
    sec = read_digits(tok, pos, 1, 2);
    return sec >= 0 && ends_number(tok, pos);
}

bool parse_number(std::string_view tok, std::size_t min, std::size_t max, int& out) noexcept {
    std::size_t pos = 0;
    out = read_digits(tok, pos, min, max);
    return out >= 0 && ends_number(tok, pos);
}

int parse_month(std::string_view tok) noexcept {
    static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                   "jul", "aug", "sep", "oct", "nov", "dec"};
    if (tok.size() < 3) return 0;
    const char m[3] = {lower(tok[0]), lower(tok[1]), lower(tok[2])};
    for (int i = 0; i < 12; ++i) {
        if (std::string_view(m, 3) == kMonths[i]) return i + 1;
    }
    return 0;
}

// A cookie-date in any of the formats §5.1.1 accepts (RFC 1123, RFC 850 with a two-digit
// year, asctime, and their common variants), as seconds since the epoch.
std::optional<std::int64_t> parse_cookie_date(std::string_view text) noexcept {
    bool found_time = false, found_day = false, found_month = false, found_year = false;
    int hour = 0, minute = 0, second = 0, day = 0, month = 0, year = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_date_delimiter(text[i])) ++i;
        const std::size_t start = i;
        while (i < text.size() && !is_date_delimiter(text[i])) ++i;
        const std::string_view tok = text.substr(start, i - start);
        if (tok.empty()) continue;
        int h = 0, m = 0, s = 0, n = 0;
        if (!found_time && parse_time(tok, h, m, s)) {
            found_time = true;
            hour = h;
            minute = m;
            second = s;
        } else if (!found_day && parse_number(tok, 1, 2, n)) {
            found_day = true;
            day = n;
        } else if (!found_month && (n = parse_month(tok)) != 0) {
            found_month = true;
            month = n;
        } else if (!found_year && parse_number(tok, 2, 4, n)) {
            found_year = true;
            year = n;
        }
    }
    if (year >= 70 && year <= 99) year += 1900;
    if (year >= 0 && year <= 69) year += 2000;
    if (!found_time || !found_day || !found_month || !found_year) return std::nullopt;
    if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok()) return std::nullopt;  // 31 April, 29 February of a common year
    const std::int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
    return days * 86400 + hour * 3600 + minute * 60 + second;
}

// ---- Set-Cookie (RFC 6265 §5.2, §5.3) -----------------------------------------------------

// Max-Age's value: digits, optionally after a '-'. Its expiry, or none when malformed.
std::optional<time_point> parse_max_age(std::string_view v, time_point now) noexcept {
    const bool negative = !v.empty() && v.front() == '-';
    std::string_view digits = negative ? v.substr(1) : v;
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) return std::nullopt;
    std::int64_t secs = 0;
    for (char c : digits) {
        if (secs > std::numeric_limits<std::int64_t>::max() / 20) break;  // far beyond any clock: saturate
        secs = secs * 10 + (c - '0');
    }
    if (negative || secs == 0) return time_point::min();
    const std::int64_t now_secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (secs > std::numeric_limits<std::int64_t>::max() / 2 - now_secs) return time_point::max();
    return from_unix_seconds(now_secs + secs);
}

std::optional<Cookie> parse_set_cookie(std::string_view header, const URL& url, time_point now, std::size_t max_size) {
    if (has_control(header)) return std::nullopt;
    const std::string& host = url.host();
    if (host.empty()) return std::nullopt;

    const auto semi = header.find(';');
    const std::string_view pair = header.substr(0, semi);
    std::string_view attributes = semi == std::string_view::npos ? std::string_view() : header.substr(semi);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view name = trim(pair.substr(0, eq));
    const std::string_view value = trim(pair.substr(eq + 1));
    if (name.empty()) return std::nullopt;
    if (max_size && name.size() + value.size() > max_size) return std::nullopt;

    Cookie c;
    c.name = std::string(name);
    c.value = std::string(value);
    std::optional<time_point> expires, max_age;
    std::optional<std::string> domain, path;
    // Each attribute is ";" name ["=" value]; the last of a name wins (§5.3).
    while (!attributes.empty()) {
        attributes.remove_prefix(1);  // the ';'
        const auto end = attributes.find(';');
        const std::string_view av = attributes.substr(0, end);
        attributes = end == std::string_view::npos ? std::string_view() : attributes.substr(end);
        const auto av_eq = av.find('=');
        const std::string_view key = trim(av.substr(0, av_eq));
        const std::string_view v = av_eq == std::string_view::npos ? std::string_view() : trim(av.substr(av_eq + 1));
        if (v.size() > kMaxAttributeValue) continue;
        if (iequals(key, "expires")) {
            if (auto secs = parse_cookie_date(v)) expires = from_unix_seconds(*secs);
        } else if (iequals(key, "max-age")) {
            if (auto when = parse_max_age(v, now)) max_age = when;
        } else if (iequals(key, "domain")) {
            std::string_view d = v;
            if (!d.empty() && d.front() == '.') d.remove_prefix(1);
            if (!d.empty()) domain = to_lower(d);  // an empty Domain is ignored (§5.2.3)
        } else if (iequals(key, "path")) {
            path = !v.empty() && v.front() == '/' ? std::string(v) : default_path(url.path());
        } else if (iequals(key, "secure")) {
            c.secure = true;
        } else if (iequals(key, "httponly")) {
            c.http_only = true;
        } else if (iequals(key, "samesite")) {
            if (iequals(v, "strict")) {
                c.same_site = "Strict";
            } else if (iequals(v, "lax")) {
                c.same_site = "Lax";
            } else if (iequals(v, "none")) {
                c.same_site = "None";
            } else {
                c.same_site.clear();
            }
        }
    }
    if (max_age) {
        c.expires = max_age;
    } else if (expires) {
        c.expires = expires;
    }
    if (domain && *domain != host) {
        // A Domain wider than the host: never for an IP address, never a single label
        // (the nearest we get to a public suffix check), and it must domain-match.
        if (is_ip_address(host) || domain->find('.') == std::string::npos || !domain_match(host, *domain)) {
            return std::nullopt;
        }
        c.domain = std::move(*domain);
        c.host_only = false;
    } else if (domain && (is_ip_address(host) || domain->find('.') == std::string::npos)) {
        c.domain = host;  // Domain equal to an address or a single label: host-only (§5.3 step 5)
        c.host_only = true;
    } else if (domain) {
        c.domain = std::move(*domain);
        c.host_only = false;
    } else {
        c.domain = host;
        c.host_only = true;
    }
    c.path = path ? std::move(*path) : default_path(url.path());
    return c;
}

bool is_expired(const Cookie& c, time_point now) noexcept { return c.expires && *c.expires <= now; }

}  // namespace

// ---- detail --------------------------------------------------------------------------------

void detail::check_cookie_pair(std::string_view name, std::string_view value) {
    if (!is_token(name)) throw ValueError(fmt::format("ValueError: invalid cookie name '{}'", name));
    const bool bad = has_control(value) || value.find_first_of(";\t") != std::string_view::npos ||
                     (!value.empty() && (value.front() == ' ' || value.back() == ' '));
    if (bad) {
        throw ValueError(fmt::format("ValueError: cookie '{}' has a value with characters a cookie cannot hold", name));
    }
}

// ---- CookieJar -----------------------------------------------------------------------------

CookieJar::CookieJar(CookieLimits limits, NowFunction now) : limits_(limits), now_(std::move(now)) {}

time_point CookieJar::now() const { return now_ ? now_() : std::chrono::system_clock::now(); }

void CookieJar::update_cookies(const Headers& response_headers, const URL& response_url) {
    bool any = false;
    time_point t{};
    for (std::string_view header : response_headers.get_all("set-cookie")) {
        if (!any) {
            t = now();
            any = true;
        }
        if (auto c = parse_set_cookie(header, response_url, t, limits_.max_size)) store(std::move(*c), t);
    }
}

bool CookieJar::set_cookie(std::string_view set_cookie_value, const URL& response_url) {
    const time_point t = now();
    auto c = parse_set_cookie(set_cookie_value, response_url, t, limits_.max_size);
    if (!c) return false;
    store(std::move(*c), t);
    return true;
}

void CookieJar::set(std::string_view name, std::string_view value, std::string_view domain, std::string_view path) {
    Cookie c;
    c.name = std::string(name);
    c.value = std::string(value);
    c.domain = std::string(domain);
    c.path = std::string(path);
    set(std::move(c));
}

void CookieJar::set(Cookie cookie) {
    detail::check_cookie_pair(cookie.name, cookie.value);
    if (limits_.max_size && cookie.name.size() + cookie.value.size() > limits_.max_size) {
        throw ValueError(fmt::format("ValueError: cookie '{}' is larger than the jar's limit of {} bytes", cookie.name,
                                     limits_.max_size));
    }
    if (cookie.path.empty() || cookie.path.front() != '/' || has_control(cookie.path) ||
        cookie.path.find(';') != std::string::npos) {
        throw ValueError(fmt::format("ValueError: cookie '{}' has the path '{}', which does not start with '/'",
                                     cookie.name, cookie.path));
    }
    std::string_view domain = cookie.domain;
    if (!domain.empty() && domain.front() == '.') domain.remove_prefix(1);
    if (has_control(domain) || domain.find_first_of(" ;,/") != std::string_view::npos) {
        throw ValueError(fmt::format("ValueError: cookie '{}' has the invalid domain '{}'", cookie.name, cookie.domain));
    }
    cookie.domain = to_lower(domain);
    if (cookie.domain.empty()) cookie.host_only = false;  // shared: every host
    store(std::move(cookie), now());
}

void CookieJar::store(Cookie cookie, time_point t) {
    const bool expired = is_expired(cookie, t);
    auto bucket_it = by_domain_.find(cookie.domain);
    if (bucket_it == by_domain_.end()) {
        if (expired) return;
        bucket_it = by_domain_.try_emplace(cookie.domain).first;
    }
    std::vector<Entry>& bucket = bucket_it->second;
    auto same = std::find_if(bucket.begin(), bucket.end(),
                             [&](const Entry& e) { return e.cookie.name == cookie.name && e.cookie.path == cookie.path; });
    if (expired) {
        // An expired cookie is how a server deletes one (§5.3 step 11 then the eviction).
        if (same != bucket.end()) {
            bucket.erase(same);
            --count_;
        }
        if (bucket.empty()) by_domain_.erase(bucket_it);
        return;
    }
    if (same != bucket.end()) {
        same->cookie = std::move(cookie);  // keeps its creation order (§5.3 step 11.3)
        return;
    }
    const std::string domain = cookie.domain;
    bucket.push_back(Entry{std::move(cookie), next_created_++});
    ++count_;
    enforce_limits(domain, t);
}

void CookieJar::enforce_limits(const std::string& domain, time_point t) {
    if (limits_.per_domain) {
        auto it = by_domain_.find(domain);
        if (it != by_domain_.end() && it->second.size() > limits_.per_domain) {
            std::vector<Entry>& bucket = it->second;
            count_ -= std::erase_if(bucket, [&](const Entry& e) { return is_expired(e.cookie, t); });
            while (bucket.size() > limits_.per_domain) erase_oldest(&bucket);
        }
    }
    if (limits_.total && count_ > limits_.total) {
        for (auto it = by_domain_.begin(); it != by_domain_.end();) {
            count_ -= std::erase_if(it->second, [&](const Entry& e) { return is_expired(e.cookie, t); });
            it = it->second.empty() ? by_domain_.erase(it) : std::next(it);
        }
        while (count_ > limits_.total) erase_oldest(nullptr);
    }
}

// Removes the oldest cookie of `only`, or of the whole jar when it is null.
void CookieJar::erase_oldest(std::vector<Entry>* only) {
    std::vector<Entry>* where = nullptr;
    std::vector<Entry>::iterator oldest{};
    auto consider = [&](std::vector<Entry>& bucket) {
        for (auto e = bucket.begin(); e != bucket.end(); ++e) {
            if (!where || e->created < oldest->created) {
                where = &bucket;
                oldest = e;
            }
        }
    };
    if (only) {
        consider(*only);
    } else {
        for (auto& [key, bucket] : by_domain_) consider(bucket);
    }
    if (!where) return;
    where->erase(oldest);
    --count_;
    if (where->empty()) {
        std::erase_if(by_domain_, [](const auto& kv) { return kv.second.empty(); });
    }
}

std::vector<Cookie> CookieJar::filter_cookies(const URL& request_url) const {
    if (count_ == 0) return {};  // the common case for a session: no clock read, no lookups
    const std::string& host = request_url.host();
    if (host.empty()) return {};
    const time_point t = now();
    const bool secure = request_url.is_secure();
    const std::string_view path = request_url.path();
    std::vector<const Entry*> found;
    auto collect = [&](const std::string& key, bool exact_host) {
        auto it = by_domain_.find(key);
        if (it == by_domain_.end()) return;
        for (const Entry& e : it->second) {
            const Cookie& c = e.cookie;
            if (c.host_only && !exact_host) continue;
            if (c.secure && !secure) continue;
            if (is_expired(c, t) || !path_match(path, c.path)) continue;
            found.push_back(&e);
        }
    };
    // The host, then each parent domain (a Domain cookie for example.com is also
    // www.example.com's), then the cookies set for every host.
    collect(host, true);
    if (!is_ip_address(host)) {
        for (auto dot = host.find('.'); dot != std::string::npos; dot = host.find('.', dot + 1)) {
            collect(host.substr(dot + 1), false);
        }
    }
    collect(std::string(), false);
    std::sort(found.begin(), found.end(), [](const Entry* a, const Entry* b) {
        if (a->cookie.path.size() != b->cookie.path.size()) return a->cookie.path.size() > b->cookie.path.size();
        return a->created < b->created;
    });
    std::vector<Cookie> out;
    out.reserve(found.size());
    for (const Entry* e : found) out.push_back(e->cookie);
    return out;
}

std::string CookieJar::cookie_header(const URL& request_url) const {
    std::string out;
    for (const Cookie& c : filter_cookies(request_url)) {
        if (!out.empty()) out += "; ";
        out.append(c.name).append("=").append(c.value);
    }
    return out;
}

std::vector<Cookie> CookieJar::cookies() const {
    const time_point t = now();
    std::vector<const Entry*> live;
    for (const auto& [key, bucket] : by_domain_) {
        for (const Entry& e : bucket) {
            if (!is_expired(e.cookie, t)) live.push_back(&e);
        }
    }
    std::sort(live.begin(), live.end(), [](const Entry* a, const Entry* b) { return a->created < b->created; });
    std::vector<Cookie> out;
    out.reserve(live.size());
    for (const Entry* e : live) out.push_back(e->cookie);
    return out;
}

std::size_t CookieJar::size() const {
    if (count_ == 0) return 0;
    const time_point t = now();
    std::size_t n = 0;
    for (const auto& [key, bucket] : by_domain_) {
        n += static_cast<std::size_t>(
            std::count_if(bucket.begin(), bucket.end(), [&](const Entry& e) { return !is_expired(e.cookie, t); }));
    }
    return n;
}

void CookieJar::clear() noexcept {
    by_domain_.clear();
    count_ = 0;
}

void CookieJar::clear_domain(std::string_view domain) {
    if (!domain.empty() && domain.front() == '.') domain.remove_prefix(1);
    const std::string d = to_lower(domain);
    if (d.empty()) return;
    for (auto it = by_domain_.begin(); it != by_domain_.end();) {
        if (!it->first.empty() && domain_match(it->first, d)) {
            count_ -= it->second.size();
            it = by_domain_.erase(it);
        } else {
            ++it;
        }
    }
}

void CookieJar::remove_expired() {
    if (count_ == 0) return;
    const time_point t = now();
    for (auto it = by_domain_.begin(); it != by_domain_.end();) {
        count_ -= std::erase_if(it->second, [&](const Entry& e) { return is_expired(e.cookie, t); });
        it = it->second.empty() ? by_domain_.erase(it) : std::next(it);
    }
}

}  // namespace aio::http
