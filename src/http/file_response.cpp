#include "http/file_response.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <ctime>
#include <utility>

#include "aio/exceptions.hpp"

namespace aio::http::detail {

namespace {

Response error_answer(int status, std::string_view detail) {
    return Response::json(nlohmann::json{{"detail", detail}}, status);
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// Whether the entity-tag list `header` ("*" or `"a", W/"b"`) holds `etag`; weak
/// comparison ignores W/ on both sides, strong comparison never matches a weak tag.
bool etag_listed(std::string_view header, std::string_view etag, bool weak) {
    if (trim(header) == "*") return true;
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view tag = trim(header.substr(0, comma));
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        if (tag.starts_with("W/")) {
            if (!weak) continue;
            tag.remove_prefix(2);
        }
        if (tag == etag) return true;
    }
    return false;
}

bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty()) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

/// The one byte range a Range header asks for, clipped to `size`. nullopt: ignore the
/// header (malformed, another unit, or several ranges, which we answer with the whole
/// file as RFC 9110 §14.2 allows). A range starting past the end is "unsatisfiable".
struct ByteRange {
    std::uint64_t first = 0, last = 0;
    bool satisfiable = true;
};
std::optional<ByteRange> parse_range(std::string_view header, std::uint64_t size) noexcept {
    header = trim(header);
    if (header.size() < 6 || !iequals(header.substr(0, 6), "bytes=")) return std::nullopt;
    std::string_view spec = trim(header.substr(6));
    if (spec.find(',') != std::string_view::npos) return std::nullopt;
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const std::string_view a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
    ByteRange r;
    if (a.empty()) {  // the last N bytes
        std::uint64_t n = 0;
        if (!parse_u64(b, n)) return std::nullopt;
        if (n == 0 || size == 0) return ByteRange{0, 0, false};
        r.first = n >= size ? 0 : size - n;
        r.last = size - 1;
        return r;
    }
    if (!parse_u64(a, r.first)) return std::nullopt;
    if (b.empty()) {
        r.last = size == 0 ? 0 : size - 1;
    } else {
        if (!parse_u64(b, r.last) || r.last < r.first) return std::nullopt;
        if (size > 0 && r.last >= size) r.last = size - 1;
    }
    if (r.first >= size) r.satisfiable = false;
    return r;
}

}  // namespace

FilePlan::FilePlan(FilePlan&& o) noexcept
    : status(o.status),
      headers(std::move(o.headers)),
      fd(std::exchange(o.fd, -1)),
      offset(o.offset),
      length(o.length),
      answer(std::move(o.answer)) {}

FilePlan::~FilePlan() {
    if (fd >= 0) ::close(fd);
}

FilePlan plan_file(const std::string& path, int status, const Headers& headers, std::string_view method,
                   const Headers& request) {
    FilePlan plan;
    plan.status = status;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) {
            plan.answer = error_answer(404, "Not Found");
        } else if (err == EACCES || err == EPERM || err == ELOOP) {
            plan.answer = error_answer(403, "Forbidden");
        } else {
            throw OSError(err, "cannot open '" + path + "'");
        }
        return plan;
    }
    plan.fd = fd;
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw OSError(errno, "cannot stat '" + path + "'");
    if (!S_ISREG(st.st_mode)) {
        plan.answer = error_answer(403, "Forbidden");
        return plan;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::int64_t mtime = st.st_mtim.tv_sec;
    const auto mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000u +
                          static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
    std::string etag = headers.contains("ETag") ? std::string(headers.at("ETag"))
                                                : fmt::format("\"{:x}-{:x}\"", mtime_ns, size);
    std::string last_modified = http_date_of(mtime);
    Headers validators;
    if (!headers.contains("ETag")) validators.add("ETag", etag);
    if (!headers.contains("Last-Modified")) validators.add("Last-Modified", last_modified);

    // Preconditions, in RFC 9110 §13.2.2's order.
    const bool get_or_head = method == "GET" || method == "HEAD";
    if (auto v = request.get("If-Match")) {
        if (!etag_listed(*v, etag, false)) {
            plan.answer = error_answer(412, "Precondition Failed: If-Match");
            return plan;
        }
    } else if (auto d = request.get("If-Unmodified-Since")) {
        if (auto since = parse_http_date(*d); since && mtime > *since) {
            plan.answer = error_answer(412, "Precondition Failed: If-Unmodified-Since");
            return plan;
        }
    }
    bool not_modified = false;
    if (auto v = request.get("If-None-Match")) {
        if (etag_listed(*v, etag, true)) {
            if (!get_or_head) {
                plan.answer = error_answer(412, "Precondition Failed: If-None-Match");
                return plan;
            }
            not_modified = true;
        }
    } else if (auto d = request.get("If-Modified-Since"); d && get_or_head) {
        if (auto since = parse_http_date(*d); since && mtime <= *since) not_modified = true;
    }
    if (not_modified && status == 200) {
        Response r(304, {}, {});
        for (const auto& [name, value] : validators) r.headers().add(name, value);
        for (const auto& [name, value] : headers) r.headers().add(name, value);
        plan.answer = std::move(r);
        return plan;
    }

    if (!headers.contains("Content-Type")) plan.headers.add("Content-Type", content_type_for(path));
    for (const auto& [name, value] : validators) plan.headers.add(name, value);
    plan.length = size;
    if (status != 200) return plan;
    plan.headers.add("Accept-Ranges", "bytes");
    auto range_header = request.get("Range");
    if (!range_header || method != "GET") return plan;
    if (auto cond = request.get("If-Range")) {
        const std::string_view c = trim(*cond);
        const bool tag = c.starts_with('"') || c.starts_with("W/");
        const bool current = tag ? c == etag : parse_http_date(c) == std::optional<std::int64_t>(mtime);
        if (!current) return plan;  // changed since: the whole file
    }
    const auto range = parse_range(*range_header, size);
    if (!range) return plan;
    if (!range->satisfiable) {
        Response r = error_answer(416, "Range Not Satisfiable");
        r.headers().add("Content-Range", fmt::format("bytes */{}", size));
        plan.answer = std::move(r);
        return plan;
    }
    plan.status = 206;
    plan.offset = range->first;
    plan.length = range->last - range->first + 1;
    plan.headers.add("Content-Range", fmt::format("bytes {}-{}/{}", range->first, range->last, size));
    return plan;
}

std::string_view content_type_for(std::string_view path) noexcept {
    static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
        {"html", "text/html; charset=utf-8"},   {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},     {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"}, {"json", "application/json"},
        {"txt", "text/plain; charset=utf-8"},   {"md", "text/markdown; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},     {"xml", "application/xml"},
        {"svg", "image/svg+xml"},               {"png", "image/png"},
        {"jpg", "image/jpeg"},                  {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},                   {"webp", "image/webp"},
        {"avif", "image/avif"},                 {"ico", "image/vnd.microsoft.icon"},
        {"pdf", "application/pdf"},             {"wasm", "application/wasm"},
        {"woff", "font/woff"},                  {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},                    {"otf", "font/otf"},
        {"mp4", "video/mp4"},                   {"webm", "video/webm"},
        {"mp3", "audio/mpeg"},                  {"ogg", "audio/ogg"},
        {"wav", "audio/wav"},                   {"zip", "application/zip"},
        {"gz", "application/gzip"},             {"tar", "application/x-tar"},
    };
    const auto slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return "application/octet-stream";
    const std::string_view ext = name.substr(dot + 1);
    for (const auto& [e, type] : kTypes) {
        if (iequals(e, ext)) return type;
    }
    return "application/octet-stream";
}

std::string http_date_of(std::int64_t seconds) {
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept {
    text = trim(text);
    if (text.empty() || text.size() > 64) return std::nullopt;
    char buf[65];
    text.copy(buf, text.size());
    buf[text.size()] = '\0';
    // IMF-fixdate, then the obsolete RFC 850 and asctime forms.
    for (const char* format : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
        std::tm tm{};
        const char* end = ::strptime(buf, format, &tm);
        if (end && *end == '\0') return static_cast<std::int64_t>(::timegm(&tm));
    }
    return std::nullopt;
}

}  // namespace aio::http::detail
