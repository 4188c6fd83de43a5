#include "aio/http/parser.hpp"

#include <fmt/format.h>

#include <array>

namespace aio::http {

namespace {

constexpr std::array<bool, 256> make_tchar() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr auto kTchar = make_tchar();

constexpr bool is_tchar(char c) noexcept { return kTchar[static_cast<unsigned char>(c)]; }
constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }
// field-vchar / SP / HTAB / obs-text: everything except controls and DEL.
constexpr bool is_value_char(char c) noexcept {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 ? u != 0x7f : u == '\t';
}
constexpr bool is_vchar(char c) noexcept { return c > 0x20 && c < 0x7f; }

std::string printable(std::string_view s, std::size_t max = 40) {
    std::string out;
    for (char c : s.substr(0, max)) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out += c;
        } else {
            out += fmt::format("\\x{:02x}", u);
        }
    }
    if (s.size() > max) out += "...";
    return out;
}

[[noreturn]] void fail(std::string_view what) { throw BadHttpMessage(std::string(what)); }

// Splits off the next CRLF-terminated line; refuses a bare LF.
std::string_view next_line(std::string_view& rest) {
    auto lf = rest.find('\n');
    if (lf == std::string_view::npos) fail("incomplete head: no CRLF at the end of a line");
    if (lf == 0 || rest[lf - 1] != '\r') fail("bare LF in the head (lines must end with CRLF)");
    std::string_view line = rest.substr(0, lf - 1);
    rest.remove_prefix(lf + 1);
    return line;
}

int parse_version(std::string_view v, std::string_view where) {
    if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' ||
        v[7] > '9') {
        fail(fmt::format("malformed HTTP version '{}' in the {}", printable(v), where));
    }
    if (v[5] != '1') throw BadHttpMessage(505, fmt::format("HTTP version {} is not supported", printable(v)));
    return v[7] == '0' ? 10 : 11;  // a higher 1.x is treated as 1.1 (RFC 9110 §2.5)
}

void check_head_end(std::string_view head) {
    if (head.size() < 4 || head.substr(head.size() - 4) != "\r\n\r\n") {
        fail("incomplete head: it must end with an empty line (CRLF CRLF)");
    }
}

bool keep_alive_for(int version, const Headers& headers) noexcept {
    bool close = false, keep = false;
    for (const auto& [name, value] : headers) {
        if (!iequals(name, "connection")) continue;
        close = close || has_token(value, "close");
        keep = keep || has_token(value, "keep-alive");
    }
    if (close) return false;
    return version >= 11 || keep;
}

std::uint64_t parse_content_length(std::string_view v) {
    if (v.empty() || v.size() > 18) fail(fmt::format("Content-Length is not a valid length: '{}'", printable(v)));
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') fail(fmt::format("Content-Length is not a valid length: '{}'", printable(v)));
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
}

// The framing rules shared by requests and responses; `request` selects the stricter
// request-side answers.
BodyFraming framing_of(int version, const Headers& headers, bool request) {
    const char* kind = request ? "request" : "response";
    bool has_te = false, chunked_last = false;
    std::size_t cl_count = 0;
    std::string_view cl;
    for (const auto& [name, value] : headers) {
        if (iequals(name, "content-length")) {
            ++cl_count;
            cl = value;
        } else if (iequals(name, "transfer-encoding")) {
            if (has_te && chunked_last) fail(fmt::format("a transfer coding follows 'chunked' in the {}", kind));
            has_te = true;
            std::string_view list = value;
            while (true) {
                auto comma = list.find(',');
                std::string_view coding = list.substr(0, comma);
                while (!coding.empty() && is_ows(coding.front())) coding.remove_prefix(1);
                while (!coding.empty() && is_ows(coding.back())) coding.remove_suffix(1);
                if (coding.empty() || !is_token(coding)) {
                    fail(fmt::format("malformed Transfer-Encoding '{}' in the {}", printable(value), kind));
                }
                if (chunked_last) fail(fmt::format("a transfer coding follows 'chunked' in the {}", kind));
                if (iequals(coding, "chunked")) {
                    chunked_last = true;
                } else if (request) {
                    throw BadHttpMessage(501, fmt::format("transfer coding '{}' is not implemented", printable(coding)));
                } else {
                    throw BadHttpMessage(fmt::format("transfer coding '{}' is not supported", printable(coding)));
                }
                if (comma == std::string_view::npos) break;
                list.remove_prefix(comma + 1);
            }
        }
    }
    if (has_te) {
        if (cl_count) fail(fmt::format("both Transfer-Encoding and Content-Length in the {} (request smuggling)", kind));
        if (version < 11) fail(fmt::format("Transfer-Encoding in an HTTP/1.0 {}", kind));
        return {BodyFraming::kChunked, 0};
    }
    if (cl_count > 1) fail(fmt::format("more than one Content-Length in the {}", kind));
    if (cl_count == 1) {
        auto n = parse_content_length(cl);
        return n == 0 ? BodyFraming{} : BodyFraming{BodyFraming::kLength, n};
    }
    return request ? BodyFraming{} : BodyFraming{BodyFraming::kUntilClose, 0};
}

}  // namespace

BadHttpMessage::BadHttpMessage(int status, const std::string& detail)
    : ValueError("BadHttpMessage: " + detail), status_(status) {}

bool is_token(std::string_view text) noexcept {
    if (text.empty()) return false;
    for (char c : text) {
        if (!is_tchar(c)) return false;
    }
    return true;
}

bool RequestHead::keep_alive() const noexcept { return keep_alive_for(version, headers); }
bool ResponseHead::keep_alive() const noexcept { return keep_alive_for(version, headers); }

void parse_fields(std::string_view block, Headers& out) {
    std::string_view rest = block;
    for (;;) {
        std::string_view line = next_line(rest);
        if (line.empty()) break;
        if (is_ows(line.front())) fail("obs-fold: a header line starts with white space");
        auto colon = line.find(':');
        if (colon == std::string_view::npos) fail(fmt::format("header line without ':': '{}'", printable(line)));
        std::string_view name = line.substr(0, colon);
        if (!name.empty() && is_ows(name.back())) {
            fail(fmt::format("white space between header name '{}' and ':'", printable(name)));
        }
        if (!is_token(name)) fail(fmt::format("invalid header name '{}'", printable(name)));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && is_ows(value.front())) value.remove_prefix(1);
        while (!value.empty() && is_ows(value.back())) value.remove_suffix(1);
        for (char c : value) {
            if (!is_value_char(c)) {
                fail(fmt::format("invalid character 0x{:02x} in the value of header '{}'", static_cast<unsigned char>(c),
                                 printable(name)));
            }
        }
        if (out.size() >= kMaxHeaderFields) {
            throw BadHttpMessage(431, fmt::format("more than {} header fields", kMaxHeaderFields));
        }
        out.add(name, value);
    }
    if (!rest.empty()) fail("bytes after the empty line that ends the head");
}

RequestHead parse_request_head(std::string_view head) {
    check_head_end(head);
    std::string_view rest = head;
    std::string_view line = next_line(rest);
    RequestHead req;
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) fail(fmt::format("malformed request line '{}'", printable(line)));
    auto sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) fail(fmt::format("malformed request line '{}'", printable(line)));
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (!is_token(method)) fail(fmt::format("invalid method '{}'", printable(method)));
    if (target.empty()) fail(fmt::format("empty request target in '{}'", printable(line)));
    for (char c : target) {
        if (!is_vchar(c)) {
            fail(fmt::format("invalid character 0x{:02x} in request target '{}'", static_cast<unsigned char>(c),
                             printable(target)));
        }
    }
    req.version = parse_version(line.substr(sp2 + 1), "request line");
    req.method.assign(method);
    req.target.assign(target);
    parse_fields(rest, req.headers);
    std::size_t hosts = 0;
    for (const auto& f : req.headers) hosts += iequals(f.first, "host") ? 1 : 0;
    if (hosts > 1) fail("more than one Host header");
    if (hosts == 0 && req.version >= 11) fail("HTTP/1.1 request without a Host header");
    return req;
}

ResponseHead parse_response_head(std::string_view head) {
    check_head_end(head);
    std::string_view rest = head;
    std::string_view line = next_line(rest);
    ResponseHead resp;
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) fail(fmt::format("malformed status line '{}'", printable(line)));
    resp.version = parse_version(line.substr(0, sp1), "status line");
    std::string_view code = line.substr(sp1 + 1, 3);
    if (code.size() != 3 || code[0] < '1' || code[0] > '9' || code[1] < '0' || code[1] > '9' || code[2] < '0' ||
        code[2] > '9') {
        fail(fmt::format("malformed status code in '{}'", printable(line)));
    }
    resp.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    std::string_view reason = line.substr(sp1 + 4);
    if (!reason.empty()) {
        if (reason.front() != ' ') fail(fmt::format("malformed status line '{}'", printable(line)));
        reason.remove_prefix(1);
        for (char c : reason) {
            if (!is_value_char(c)) {
                fail(fmt::format("invalid character 0x{:02x} in the reason phrase", static_cast<unsigned char>(c)));
            }
        }
    }
    resp.reason.assign(reason);
    parse_fields(rest, resp.headers);
    return resp;
}

BodyFraming request_framing(const RequestHead& head) { return framing_of(head.version, head.headers, true); }

BodyFraming response_framing(const ResponseHead& head, std::string_view request_method) {
    if (request_method == "HEAD" || (head.status >= 100 && head.status < 200) || head.status == 204 ||
        head.status == 304) {
        return {};
    }
    if (request_method == "CONNECT" && head.status >= 200 && head.status < 300) return {};
    return framing_of(head.version, head.headers, false);
}

std::uint64_t parse_chunk_size(std::string_view line) {
    std::uint64_t n = 0;
    std::size_t i = 0;
    for (; i < line.size(); ++i) {
        char c = line[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) break;
        if (i >= 15) fail(fmt::format("chunk size too large: '{}'", printable(line)));
        n = n * 16 + static_cast<std::uint64_t>(d);
    }
    if (i == 0) fail(fmt::format("malformed chunk size line '{}'", printable(line)));
    // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val = token / quoted-string
    std::string_view rest = line.substr(i);
    auto skip_ws = [&] {
        while (!rest.empty() && is_ows(rest.front())) rest.remove_prefix(1);
    };
    auto take_token = [&] {
        std::size_t k = 0;
        while (k < rest.size() && is_tchar(rest[k])) ++k;
        if (k == 0) fail(fmt::format("malformed chunk extension in '{}'", printable(line)));
        rest.remove_prefix(k);
    };
    skip_ws();
    while (!rest.empty()) {
        if (rest.front() != ';') fail(fmt::format("malformed chunk size line '{}'", printable(line)));
        rest.remove_prefix(1);
        skip_ws();
        take_token();
        skip_ws();
        if (!rest.empty() && rest.front() == '=') {
            rest.remove_prefix(1);
            skip_ws();
            if (!rest.empty() && rest.front() == '"') {
                rest.remove_prefix(1);
                bool closed = false;
                while (!rest.empty()) {
                    char c = rest.front();
                    rest.remove_prefix(1);
                    if (c == '"') {
                        closed = true;
                        break;
                    }
                    if (c == '\\') {
                        if (rest.empty() || !is_value_char(rest.front())) break;
                        rest.remove_prefix(1);
                    } else if (!is_value_char(c)) {
                        break;
                    }
                }
                if (!closed) fail(fmt::format("malformed quoted chunk extension in '{}'", printable(line)));
            } else {
                take_token();
            }
            skip_ws();
        }
    }
    return n;
}

}  // namespace aio::http
