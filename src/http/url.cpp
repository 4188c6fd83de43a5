#include "aio/http/url.hpp"

#include <fmt/format.h>

namespace aio::http {

namespace {

constexpr bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_unreserved(char c) noexcept {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
constexpr bool is_sub_delim(char c) noexcept { return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos; }
constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
constexpr int hex_value(char c) noexcept {
    return is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}
constexpr const char* kHex = "0123456789ABCDEF";

[[noreturn]] void invalid(std::string_view url, std::string_view why) {
    throw InvalidURL(fmt::format("InvalidURL: {} in URL '{}'", why, url.substr(0, 200)));
}

// Percent-encodes spaces and non-ASCII bytes (as browsers do with a typed or linked URL);
// refuses control characters.
std::string normalise_part(std::string_view part, std::string_view url) {
    std::string out;
    out.reserve(part.size());
    for (char c : part) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) invalid(url, fmt::format("control character 0x{:02x}", u));
        if (u == ' ' || u >= 0x80 || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
            c == '{' || c == '|' || c == '}') {
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 15];
        } else {
            out += c;
        }
    }
    return out;
}

std::uint16_t default_port(std::string_view scheme) noexcept {
    if (scheme == "http" || scheme == "ws") return 80;
    if (scheme == "https" || scheme == "wss") return 443;
    return 0;
}

// RFC 3986 §5.2.4.
std::string remove_dot_segments(std::string_view in) {
    std::string out;
    while (!in.empty()) {
        if (in.starts_with("../")) {
            in.remove_prefix(3);
        } else if (in.starts_with("./")) {
            in.remove_prefix(2);
        } else if (in.starts_with("/./")) {
            in.remove_prefix(2);
        } else if (in == "/.") {
            in = "/";
        } else if (in.starts_with("/../") || in == "/..") {
            in = in.size() == 3 ? std::string_view("/") : in.substr(3);
            auto slash = out.rfind('/');
            out.erase(slash == std::string::npos ? 0 : slash);
        } else if (in == "." || in == "..") {
            in = {};
        } else {
            auto next = in.find('/', in.front() == '/' ? 1 : 0);
            out.append(in.substr(0, next));
            in = next == std::string_view::npos ? std::string_view() : in.substr(next);
        }
    }
    return out;
}

std::string host_for_display(const std::string& host) {
    if (host.find(':') == std::string::npos) return host;
    std::string out;
    out.reserve(host.size() + 2);
    out.append("[").append(host).append("]");
    return out;
}

void quote_into(std::string& out, std::string_view text, std::string_view safe, bool plus_for_space) {
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (is_unreserved(c) || (u < 0x80 && safe.find(c) != std::string_view::npos)) {
            out += c;
        } else if (plus_for_space && c == ' ') {
            out += '+';
        } else {
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 15];
        }
    }
}

}  // namespace

URL::URL(std::string_view text) {
    std::string_view rest = text;
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
    // scheme
    std::size_t i = 0;
    if (!rest.empty() && is_alpha(rest[0])) {
        i = 1;
        while (i < rest.size() && (is_alpha(rest[i]) || is_digit(rest[i]) || rest[i] == '+' || rest[i] == '-' || rest[i] == '.')) ++i;
        if (i < rest.size() && rest[i] == ':') {
            for (char c : rest.substr(0, i)) scheme_ += lower(c);
            rest.remove_prefix(i + 1);
        }
    }
    if (auto hash = rest.find('#'); hash != std::string_view::npos) {
        fragment_ = normalise_part(rest.substr(hash + 1), text);
        rest = rest.substr(0, hash);
    }
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        query_ = normalise_part(rest.substr(q + 1), text);
        rest = rest.substr(0, q);
    }
    if (rest.starts_with("//")) {
        has_authority_ = true;
        rest.remove_prefix(2);
        auto end = rest.find('/');
        std::string_view authority = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
        if (auto at = authority.rfind('@'); at != std::string_view::npos) {
            std::string_view userinfo = authority.substr(0, at);
            authority.remove_prefix(at + 1);
            auto colon = userinfo.find(':');
            user_ = unquote(userinfo.substr(0, colon));
            if (colon != std::string_view::npos) password_ = unquote(userinfo.substr(colon + 1));
        }
        std::string_view host = authority;
        std::string_view port;
        if (authority.starts_with("[")) {
            auto close = authority.find(']');
            if (close == std::string_view::npos) invalid(text, "unterminated IPv6 address");
            host = authority.substr(1, close - 1);
            std::string_view after = authority.substr(close + 1);
            if (!after.empty()) {
                if (after.front() != ':') invalid(text, "junk after the IPv6 address");
                port = after.substr(1);
                has_port_ = true;
            }
            if (host.empty()) invalid(text, "empty IPv6 address");
            for (char c : host) {
                if (!(hex_value(c) >= 0 || c == ':' || c == '.' || c == '%')) invalid(text, "malformed IPv6 address");
            }
        } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
            host = authority.substr(0, colon);
            port = authority.substr(colon + 1);
            has_port_ = true;
        }
        if (has_port_) {
            if (port.empty()) {
                has_port_ = false;  // "http://host:/" means the default port (RFC 3986 §3.2.3)
            } else {
                unsigned value = 0;
                for (char c : port) {
                    if (!is_digit(c) || value > 65535) invalid(text, fmt::format("invalid port '{}'", port));
                    value = value * 10 + static_cast<unsigned>(c - '0');
                }
                if (value > 65535 || port.size() > 5) invalid(text, fmt::format("invalid port '{}'", port));
                port_ = static_cast<std::uint16_t>(value);
            }
        }
        for (char c : host) {
            auto u = static_cast<unsigned char>(c);
            if (u >= 0x80) invalid(text, "non-ASCII host name (IDNA is not supported; give the punycode form)");
            if (!(is_unreserved(c) || is_sub_delim(c) || c == '%' || c == ':')) {
                invalid(text, fmt::format("invalid character '{}' in the host", printable_char(c)));
            }
            host_ += lower(c);
        }
        if (host_.empty() && (scheme_ == "http" || scheme_ == "https" || scheme_ == "ws" || scheme_ == "wss")) {
            invalid(text, "no host");
        }
    }
    path_ = normalise_part(rest, text);
    if (has_authority_ && path_.empty()) path_.push_back('/');
}

std::string URL::printable_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", u);
}

std::uint16_t URL::port() const noexcept { return has_port_ ? port_ : default_port(scheme_); }

QueryItems URL::query() const { return parse_qsl(query_); }

std::string URL::target() const {
    std::string t = path_.empty() ? std::string("/") : path_;
    if (!query_.empty()) t.append("?").append(query_);
    return t;
}

std::string URL::authority() const {
    std::string a = host_for_display(host_);
    if (has_port_ && port_ != default_port(scheme_)) a.append(":").append(std::to_string(port_));
    return a;
}

std::string URL::origin() const {
    std::string o = scheme_;
    o.append("://").append(host_for_display(host_)).append(":").append(std::to_string(port()));
    return o;
}

std::string URL::str() const {
    std::string s;
    if (!scheme_.empty()) s.append(scheme_).append(":");
    if (has_authority_) {
        s.append("//");
        if (!user_.empty() || !password_.empty()) {
            quote_into(s, user_, "", false);
            if (!password_.empty()) {
                s += ':';
                quote_into(s, password_, "", false);
            }
            s += '@';
        }
        s.append(host_for_display(host_));
        if (has_port_) s.append(":").append(std::to_string(port_));
    }
    s.append(path_);
    if (!query_.empty()) s.append("?").append(query_);
    if (!fragment_.empty()) s.append("#").append(fragment_);
    return s;
}

URL URL::join(std::string_view reference) const {
    URL r(reference);
    URL t;
    if (!r.scheme_.empty()) {
        t = std::move(r);
        t.path_ = remove_dot_segments(t.path_);
        if (t.has_authority_ && t.path_.empty()) t.path_.push_back('/');
        return t;
    }
    t.scheme_ = scheme_;
    if (r.has_authority_) {
        t.has_authority_ = true;
        t.user_ = r.user_;
        t.password_ = r.password_;
        t.host_ = r.host_;
        t.port_ = r.port_;
        t.has_port_ = r.has_port_;
        t.path_ = remove_dot_segments(r.path_);
        t.query_ = r.query_;
    } else {
        t.has_authority_ = has_authority_;
        t.user_ = user_;
        t.password_ = password_;
        t.host_ = host_;
        t.port_ = port_;
        t.has_port_ = has_port_;
        if (r.path_.empty()) {
            t.path_ = path_;
            t.query_ = r.query_.empty() && reference.find('?') == std::string_view::npos ? query_ : r.query_;
        } else {
            if (r.path_.front() == '/') {
                t.path_ = remove_dot_segments(r.path_);
            } else {
                std::string merged;
                if (has_authority_ && path_.empty()) {
                    merged.append("/").append(r.path_);
                } else {
                    auto slash = path_.rfind('/');
                    if (slash != std::string::npos) merged.assign(path_, 0, slash + 1);
                    merged.append(r.path_);
                }
                t.path_ = remove_dot_segments(merged);
            }
            t.query_ = r.query_;
        }
    }
    if (t.has_authority_ && t.path_.empty()) t.path_.push_back('/');
    t.fragment_ = r.fragment_;
    return t;
}

URL URL::with_query(const QueryItems& params) const {
    URL u = *this;
    u.query_ = urlencode(params);
    return u;
}

URL URL::extend_query(const QueryItems& params) const {
    URL u = *this;
    std::string extra = urlencode(params);
    if (extra.empty()) return u;
    if (!u.query_.empty()) u.query_ += '&';
    u.query_ += extra;
    return u;
}

URL URL::without_fragment() const {
    URL u = *this;
    u.fragment_.clear();
    return u;
}

std::string quote(std::string_view text, std::string_view safe) {
    std::string out;
    out.reserve(text.size());
    quote_into(out, text, safe, false);
    return out;
}

std::string unquote(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
            hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

QueryItems parse_qsl(std::string_view query) {
    QueryItems items;
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        if (!pair.empty()) {
            auto eq = pair.find('=');
            items.emplace_back(unquote(pair.substr(0, eq), true),
                               eq == std::string_view::npos ? std::string() : unquote(pair.substr(eq + 1), true));
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return items;
}

std::string urlencode(const QueryItems& params) {
    std::string out;
    for (const auto& [name, value] : params) {
        if (!out.empty()) out += '&';
        quote_into(out, name, "", true);
        out += '=';
        quote_into(out, value, "", true);
    }
    return out;
}

}  // namespace aio::http
