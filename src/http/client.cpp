#include "aio/http/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <unordered_map>

#include "aio/config.hpp"
#include "aio/http/dns_cache.hpp"
#include "aio/http/wire.hpp"
#include "aio/locks.hpp"
#include "aio/loop.hpp"
#include "aio/net/streams.hpp"
#include "aio/timeouts.hpp"
#include "http/decompress.hpp"

namespace aio::http {

namespace detail {

// ---- The pool ---------------------------------------------------------------------------

struct Connection {
    Streams streams;
    std::string key;  // scheme://host:port
    Clock::time_point idle_since{};
    bool reused = false;  // it came from the idle list
};

struct PoolState {
    explicit PoolState(const SessionOptions& o)
        : total(static_cast<std::ptrdiff_t>(o.limit ? o.limit : SIZE_MAX >> 2)),
          limit(o.limit),
          limit_per_host(o.limit_per_host),
          keepalive(o.keepalive_timeout) {
        if (o.ttl_dns_cache) dns.emplace(*o.ttl_dns_cache);
    }
    ~PoolState() { close_idle(); }

    std::optional<DnsCache> dns;
    Semaphore total;
    std::size_t limit, limit_per_host;
    Clock::duration keepalive;
    std::unordered_map<std::string, std::unique_ptr<Semaphore>> per_host;
    std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
    std::size_t idle_count = 0;
    bool closed = false;
    std::optional<TimerHandle> sweep;  // closes expired idle connections
    std::optional<SSLContext> verifying, insecure;

    Semaphore* host_slots(const std::string& key) {
        if (!limit_per_host) return nullptr;
        auto& s = per_host[key];
        if (!s) s = std::make_unique<Semaphore>(static_cast<std::ptrdiff_t>(limit_per_host));
        return s.get();
    }

    std::unique_ptr<Connection> take_idle(const std::string& key, Clock::time_point now) {
        auto it = idle.find(key);
        if (it == idle.end()) return nullptr;
        auto& list = it->second;
        while (!list.empty()) {
            std::unique_ptr<Connection> c = std::move(list.back());
            list.pop_back();
            --idle_count;
            // Expired, or the server closed it (or sent something unasked) while idle.
            if (now - c->idle_since >= keepalive || c->streams.reader.at_eof() || c->streams.reader.buffered() > 0) {
                c->streams.writer.abort();
                continue;
            }
            c->reused = true;
            return c;
        }
        return nullptr;
    }

    void put_idle(std::unique_ptr<Connection> c) {
        if (closed) {
            c->streams.writer.abort();
            return;
        }
        c->idle_since = get_running_loop().time();
        idle[c->key].push_back(std::move(c));
        ++idle_count;
        if (limit && idle_count > limit) evict_oldest();
        schedule_sweep();
    }

    void evict_oldest() {
        std::vector<std::unique_ptr<Connection>>* oldest = nullptr;
        for (auto& [key, list] : idle) {
            if (!list.empty() && (!oldest || list.front()->idle_since < oldest->front()->idle_since)) oldest = &list;
        }
        if (!oldest) return;
        oldest->front()->streams.writer.abort();
        oldest->erase(oldest->begin());
        --idle_count;
    }

    void schedule_sweep() {
        if (sweep || idle_count == 0) return;
        sweep = get_running_loop().call_later(keepalive, [this] {
            sweep.reset();
            const auto now = get_running_loop().time();
            for (auto& [key, list] : idle) {
                std::erase_if(list, [&](std::unique_ptr<Connection>& c) {
                    if (now - c->idle_since < keepalive) return false;
                    c->streams.writer.abort();
                    --idle_count;
                    return true;
                });
            }
            schedule_sweep();
        });
    }

    void close_idle() noexcept {
        if (sweep) {
            sweep->cancel();
            sweep.reset();
        }
        for (auto& [key, list] : idle) {
            for (auto& c : list) c->streams.writer.abort();
        }
        idle.clear();
        idle_count = 0;
    }

    const SSLContext& ssl_context(const SessionOptions& o) {
        if (o.ssl) return *o.ssl;
        if (!o.verify_ssl) {
            if (!insecure) {
                insecure.emplace(SSLContext::create_default_context());
                insecure->set_check_hostname(false);
                insecure->set_verify_mode(VerifyMode::none);
            }
            return *insecure;
        }
        if (!verifying) verifying.emplace(SSLContext::create_default_context());
        return *verifying;
    }
};

// A connection on loan, with the permits it holds.
struct Lease {
    std::shared_ptr<PoolState> pool;
    std::unique_ptr<Connection> conn;
    LockGuard host_permit;
    LockGuard total_permit;

    // Gives the connection back: to the idle list when `reusable`, else closed.
    void finish(bool reusable) noexcept {
        if (!conn) return;
        if (reusable && pool && !pool->closed) {
            pool->put_idle(std::move(conn));
        } else {
            conn->streams.writer.abort();
            conn.reset();
        }
        host_permit = LockGuard();
        total_permit = LockGuard();
    }
};

struct ResponseState {
    Lease lease;
    ResponseHead head;
    URL url;
    std::string method;
    std::vector<Redirect> history;
    BodyReader body;
    std::unique_ptr<Decompressor> decoder;
    std::optional<std::string> whole;  // the body, once read() has read it
    bool keep_alive = false;
    std::optional<std::chrono::milliseconds> sock_read;
    std::optional<Clock::time_point> deadline;

    ~ResponseState() { lease.finish(false); }
};

}  // namespace detail

namespace {

using detail::Connection;
using detail::Lease;
using detail::PoolState;
using detail::ResponseState;

enum class Phase { kConnect, kRead };

// Runs `op` under the earlier of the step timeout and the request's total deadline, and
// turns expiry into the timeout error that says which. A caller's enclosing aio::timeout
// bounds it too: that scope cancels the request, which then closes its connection.
template <class T>
Coro<T> bounded(Coro<T> op, std::optional<std::chrono::milliseconds> step, std::optional<Clock::time_point> total,
                Phase phase, const URL& url) {
    auto& loop = get_running_loop();
    std::optional<Clock::time_point> when = total;
    bool by_step = false;
    if (step) {
        const auto s = loop.time() + *step;
        if (!when || s < *when) {
            when = s;
            by_step = true;
        }
    }
    if (!when) co_return co_await std::move(op);
    // The scope is used directly (not through timeout_at): this runs several times per
    // request, and the wrapper coroutines would cost more than the request's own steps.
    std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> result{};
    try {
        Timeout scope(when);
        scope.enter();
        std::exception_ptr failed;
        try {
            if constexpr (std::is_void_v<T>) {
                co_await std::move(op);
            } else {
                result.emplace(co_await std::move(op));
            }
        } catch (...) {
            failed = std::current_exception();
        }
        scope.exit(failed);  // rethrows `failed`, or TimeoutError when the deadline ended op
    } catch (const TimeoutError& e) {
        if (dynamic_cast<const ServerTimeoutError*>(&e)) throw;
        const char* what = phase == Phase::kConnect ? "connect" : "sock_read";
        if (by_step) {
            std::string msg = fmt::format("{}: {} timeout of {} ms exceeded for {}",
                                          phase == Phase::kConnect ? "ConnectionTimeoutError" : "SocketTimeoutError",
                                          what, step->count(), url.str());
            if (phase == Phase::kConnect) throw ConnectionTimeoutError(msg);
            throw SocketTimeoutError(msg);
        }
        throw TimeoutError(fmt::format("TimeoutError: total timeout exceeded for {} (while {})", url.str(),
                                       phase == Phase::kConnect ? "connecting" : "reading"));
    }
    if constexpr (!std::is_void_v<T>) co_return std::move(*result);
}

Coro<std::optional<std::string>> next_piece(AsyncGenerator<std::string>& gen) { co_return co_await gen.next(); }

// Sends a streamed request body chunked: each piece as the generator yields it, drained
// (under sock_read) before the generator runs on, so a slow server slows the generator.
// The generator itself is bounded only by the total timeout.
Coro<> send_chunks(StreamWriter& writer, AsyncGenerator<std::string>& gen, const ClientTimeout& timeout,
                   std::optional<Clock::time_point> deadline, const URL& url) {
    std::string chunk;
    for (;;) {
        std::optional<std::string> piece = co_await bounded(next_piece(gen), std::nullopt, deadline, Phase::kRead, url);
        if (!piece) break;
        if (piece->empty()) continue;  // an empty chunk would end the body
        chunk.clear();
        append_chunk(chunk, *piece);
        writer.write(chunk);
        co_await bounded(writer.drain(), timeout.sock_read, deadline, Phase::kRead, url);
    }
    writer.write(kLastChunk);
}

std::string base64(std::string_view in) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

// Adds one cookie, or a whole Cookie header value, to a Cookie header value.
void append_cookie(std::string& header, std::string_view cookies) {
    if (cookies.empty()) return;
    if (!header.empty()) header += "; ";
    header.append(cookies);
}

bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" || method == "DELETE" ||
           method == "TRACE";
}

// Opens a connection, turning the network's errors into the client's.
Coro<std::unique_ptr<Connection>> connect(PoolState& pool, const SessionOptions& options, const URL& url, std::string key) {
    ConnectOptions co;
    if (url.is_secure()) {
        co.ssl = &pool.ssl_context(options);
        co.server_hostname = url.host();
    }
    auto conn = std::make_unique<Connection>();
    conn->key = std::move(key);
    std::string where = fmt::format("{}:{} ssl:{}", url.host(), url.port(), url.is_secure() ? "default" : "False");
    std::vector<SocketAddress> addresses;
    try {
        if (pool.dns) {
            addresses = co_await pool.dns->resolve(url.host(), url.port());
            co.addresses = addresses;
        }
        conn->streams = co_await open_connection(url.host(), url.port(), co);
    } catch (const SSLCertVerificationError& e) {
        throw ClientConnectorCertificateError(fmt::format("ClientConnectorCertificateError: cannot connect to {} [{}]", where, e.what()));
    } catch (const SSLError& e) {
        throw ClientSSLError(fmt::format("ClientSSLError: cannot connect to {} [{}]", where, e.what()));
    } catch (const OSError& e) {
        if (pool.dns) pool.dns->clear(url.host());  // the host may have moved: ask again next time
        throw ClientConnectorError(fmt::format("ClientConnectorError: cannot connect to {} [{}]", where, e.what()));
    }
    co_return conn;
}

}  // namespace

// ---- Errors ------------------------------------------------------------------------------

ClientResponseError::ClientResponseError(int status, std::string reason, std::string url,
                                         std::optional<std::chrono::seconds> retry_after)
    : ClientError(fmt::format("ClientResponseError: {}, message='{}', url='{}'", status, reason, url)),
      status_(status),
      reason_(std::move(reason)),
      url_(std::move(url)),
      retry_after_(retry_after) {}

// ---- ClientResponse ------------------------------------------------------------------------

ClientResponse::ClientResponse(std::unique_ptr<detail::ResponseState> state) noexcept : state_(std::move(state)) {}
ClientResponse::ClientResponse(ClientResponse&&) noexcept = default;
ClientResponse& ClientResponse::operator=(ClientResponse&&) noexcept = default;
ClientResponse::~ClientResponse() = default;

namespace {
const Headers kNoHeaders;
const URL kNoURL;
const std::vector<Redirect> kNoHistory;
}  // namespace

int ClientResponse::status() const noexcept { return state_ ? state_->head.status : 0; }
std::string_view ClientResponse::reason() const noexcept { return state_ ? std::string_view(state_->head.reason) : ""; }
const Headers& ClientResponse::headers() const noexcept { return state_ ? state_->head.headers : kNoHeaders; }
const URL& ClientResponse::url() const noexcept { return state_ ? state_->url : kNoURL; }
std::string_view ClientResponse::method() const noexcept { return state_ ? std::string_view(state_->method) : ""; }
const std::vector<Redirect>& ClientResponse::history() const noexcept { return state_ ? state_->history : kNoHistory; }

std::string_view ClientResponse::content_type() const noexcept {
    std::string_view v = headers().get("content-type", "");
    v = v.substr(0, v.find(';'));
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    return v;
}

std::optional<std::string_view> ClientResponse::charset() const noexcept {
    std::string_view v = headers().get("content-type", "");
    for (auto pos = v.find(';'); pos != std::string_view::npos; pos = v.find(';', pos + 1)) {
        std::string_view param = v.substr(pos + 1);
        param = param.substr(0, param.find(';'));
        while (!param.empty() && param.front() == ' ') param.remove_prefix(1);
        if (param.size() > 8 && iequals(param.substr(0, 8), "charset=")) {
            param.remove_prefix(8);
            if (param.size() >= 2 && param.front() == '"' && param.back() == '"') param = param.substr(1, param.size() - 2);
            return param;
        }
    }
    return std::nullopt;
}

void ClientResponse::raise_for_status() const {
    if (status() < 400) return;
    std::optional<std::chrono::seconds> retry_after;
    if (auto ra = headers().get("retry-after")) {
        long secs = 0;
        bool digits = !ra->empty();
        for (char c : *ra) {
            if (c < '0' || c > '9' || secs > 86400) {
                digits = false;
                break;
            }
            secs = secs * 10 + (c - '0');
        }
        if (digits) retry_after = std::chrono::seconds(secs);
    }
    throw ClientResponseError(status(), std::string(reason()), url().str(), retry_after);
}

Coro<std::string> ClientResponse::read_chunk(std::size_t max) {
    if (!state_) co_return std::string();
    ResponseState& s = *state_;
    if (s.whole) {
        std::string rest = std::move(*s.whole);
        s.whole = std::string();
        co_return rest;
    }
    for (;;) {
        if (!s.lease.conn) co_return std::string();  // released or already done
        std::string raw;
        try {
            raw = co_await bounded(s.body.read_some(max), s.sock_read, s.deadline, Phase::kRead, s.url);
        } catch (const BadHttpMessage& e) {
            s.lease.finish(false);
            throw ClientPayloadError(fmt::format("ClientPayloadError: {} (reading the body of {})", e.what(), s.url.str()));
        } catch (const OSError& e) {
            s.lease.finish(false);
            throw ClientPayloadError(fmt::format("ClientPayloadError: {} (reading the body of {})", e.what(), s.url.str()));
        }
        if (raw.empty()) {
            const bool clean = !s.decoder || s.decoder->finished();
            s.lease.finish(s.keep_alive && clean);
            if (!clean) {
                throw ClientPayloadError(fmt::format("ClientPayloadError: the compressed body of {} ended early", s.url.str()));
            }
            co_return raw;
        }
        if (!s.decoder) co_return raw;
        std::string out;
        try {
            s.decoder->feed(raw, out);
        } catch (const std::runtime_error& e) {
            s.lease.finish(false);
            throw ClientPayloadError(fmt::format("ClientPayloadError: {} ({})", e.what(), s.url.str()));
        }
        if (!out.empty()) co_return out;
    }
}

Coro<std::string> ClientResponse::read() {
    if (!state_) co_return std::string();
    if (state_->whole) co_return *state_->whole;
    std::string all;
    for (;;) {
        std::string piece = co_await read_chunk(256 * 1024);
        if (piece.empty()) break;
        if (all.empty()) {
            all = std::move(piece);
        } else {
            all.append(piece);
        }
    }
    state_->whole = all;
    co_return all;
}

Coro<std::string> ClientResponse::text() {
    std::string body = co_await read();
    auto cs = charset();
    if (cs && (iequals(*cs, "iso-8859-1") || iequals(*cs, "latin-1") || iequals(*cs, "latin1") || iequals(*cs, "us-ascii"))) {
        std::string utf8;
        utf8.reserve(body.size());
        for (char c : body) {
            auto u = static_cast<unsigned char>(c);
            if (u < 0x80) {
                utf8 += c;
            } else {
                utf8 += static_cast<char>(0xC0 | (u >> 6));
                utf8 += static_cast<char>(0x80 | (u & 0x3F));
            }
        }
        co_return utf8;
    }
    co_return body;
}

Coro<nlohmann::json> ClientResponse::json() {
    std::string body = co_await read();
    try {
        co_return nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
        throw ClientPayloadError(fmt::format("ClientPayloadError: the body of {} is not JSON ({})", url().str(), e.what()));
    }
}

void ClientResponse::release() noexcept {
    if (!state_) return;
    const bool done = state_->body.done() && (!state_->decoder || state_->decoder->finished());
    state_->lease.finish(done && state_->keep_alive);
}

// ---- ClientSession -------------------------------------------------------------------------

ClientSession::ClientSession(SessionOptions options) : options_(options), pool_(std::make_shared<PoolState>(options)) {
    headers_.add("User-Agent", fmt::format("aiocpp/{}.{}.{}", AIOCPP_VERSION_MAJOR, AIOCPP_VERSION_MINOR, AIOCPP_VERSION_PATCH));
    headers_.add("Accept", "*/*");
    if (options.auto_decompress) headers_.add("Accept-Encoding", "gzip, deflate");
    for (const auto& [name, value] : options.headers) headers_.set(name, value);
    // options_.headers now dangles: it was copied into headers_ and is never read again.
}

ClientSession::~ClientSession() {
    pool_->closed = true;
    pool_->close_idle();
}

bool ClientSession::closed() const noexcept { return pool_->closed; }
std::size_t ClientSession::idle_connections() const noexcept { return pool_->idle_count; }
const Headers& ClientSession::default_headers() const noexcept { return headers_; }

void ClientSession::clear_dns_cache(std::string_view host) {
    if (pool_->dns) pool_->dns->clear(host);
}

Coro<> ClientSession::close() {
    pool_->closed = true;
    pool_->close_idle();
    co_return;
}

Coro<ClientResponse> ClientSession::get(std::string_view url, RequestOptions o) { return request("GET", url, o); }
Coro<ClientResponse> ClientSession::get(const URL& url, RequestOptions o) {
    return [](ClientSession& self, std::string text, RequestOptions opts) -> Coro<ClientResponse> {
        co_return co_await self.request("GET", text, opts);
    }(*this, url.str(), o);
}
Coro<ClientResponse> ClientSession::post(std::string_view url, RequestOptions o) { return request("POST", url, o); }
Coro<ClientResponse> ClientSession::put(std::string_view url, RequestOptions o) { return request("PUT", url, o); }
Coro<ClientResponse> ClientSession::patch(std::string_view url, RequestOptions o) { return request("PATCH", url, o); }
Coro<ClientResponse> ClientSession::delete_(std::string_view url, RequestOptions o) { return request("DELETE", url, o); }
Coro<ClientResponse> ClientSession::head(std::string_view url, RequestOptions o) { return request("HEAD", url, o); }
Coro<ClientResponse> ClientSession::options(std::string_view url, RequestOptions o) { return request("OPTIONS", url, o); }

Coro<ClientResponse> ClientSession::request(std::string_view method_in, std::string_view url_text, RequestOptions o) {
    if (pool_->closed) throw RuntimeError("RuntimeError: Session is closed");
    std::string method(method_in);
    URL url(url_text);
    if (url.scheme() != "http" && url.scheme() != "https") {
        throw InvalidURL(fmt::format("InvalidURL: unsupported scheme '{}' in URL '{}' (http and https are)", url.scheme(), url.str()));
    }
    if (o.params.size()) {
        QueryItems params;
        for (const auto& [k, v] : o.params) params.emplace_back(std::string(k), std::string(v));
        url = url.extend_query(params);
    }
    Headers headers = headers_;
    if (o.header_map) {
        for (const auto& [k, v] : *o.header_map) headers.set(k, v);
    }
    for (const auto& [k, v] : o.headers) headers.set(k, v);
    // The Cookie header of each hop is the caller's Cookie header, then the jar's cookies
    // for the hop's URL, then the request's own cookies (which replace jar cookies of the
    // same name, as in aiohttp).
    std::string caller_cookies;
    for (std::string_view v : headers.get_all("cookie")) append_cookie(caller_cookies, v);
    headers.erase("Cookie");
    std::string request_cookies;
    std::vector<std::string> request_cookie_names;
    for (const auto& [name, value] : o.cookies) {
        detail::check_cookie_pair(name, value);
        append_cookie(request_cookies, std::string(name) + "=" + std::string(value));
        request_cookie_names.emplace_back(name);
    }
    CookieJar* jar = options_.use_cookie_jar ? &cookie_jar() : nullptr;
    std::optional<std::string> body;
    if (o.json) {
        body = o.json->dump();
        headers.setdefault("Content-Type", "application/json");
    } else if (o.form.size()) {
        QueryItems form;
        for (const auto& [k, v] : o.form) form.emplace_back(std::string(k), std::string(v));
        body = urlencode(form);
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded");
    } else if (o.data) {
        body = std::string(*o.data);
        headers.setdefault("Content-Type", "application/octet-stream");
    }
    AsyncGenerator<std::string>* stream = body ? nullptr : o.stream;
    if (stream) headers.setdefault("Content-Type", "application/octet-stream");
    if (o.auth) {
        headers.set("Authorization", "Basic " + base64(std::string(o.auth->first) + ":" + std::string(o.auth->second)));
    } else if (!url.user().empty()) {
        headers.set("Authorization", "Basic " + base64(url.user() + ":" + url.password()));
    }
    const ClientTimeout timeout = o.timeout ? *o.timeout : options_.timeout;
    std::optional<Clock::time_point> deadline;
    if (timeout.total) deadline = get_running_loop().time() + *timeout.total;
    const bool follow = o.allow_redirects.value_or(true);
    const int max_redirects = o.max_redirects.value_or(options_.max_redirects);
    std::vector<Redirect> history;
    for (int redirects = 0;; ++redirects) {
        std::string cookie = caller_cookies;
        if (jar) {
            for (const Cookie& c : jar->filter_cookies(url)) {
                if (std::find(request_cookie_names.begin(), request_cookie_names.end(), c.name) != request_cookie_names.end()) {
                    continue;
                }
                append_cookie(cookie, c.name + "=" + c.value);
            }
        }
        append_cookie(cookie, request_cookies);
        if (cookie.empty()) {
            headers.erase("Cookie");
        } else {
            headers.set("Cookie", cookie);
        }
        const std::string* body_ptr = body ? &*body : nullptr;
        ClientResponse resp = co_await send_once(method, url, headers, body_ptr, stream, timeout, deadline, history);
        // Every response's cookies count, a redirect's too (aiohttp does the same).
        if (jar) jar->update_cookies(resp.headers(), url);
        const int status = resp.status();
        const bool is_redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
        auto location = resp.headers().get("location");
        if (!follow || !is_redirect || !location) {
            if (options_.raise_for_status) resp.raise_for_status();
            co_return resp;
        }
        if (redirects >= max_redirects) {
            throw TooManyRedirects(status, fmt::format("more than {} redirects", max_redirects), url.str());
        }
        URL next = url.join(*location);
        if (next.scheme() != "http" && next.scheme() != "https") {
            throw ClientResponseError(status, fmt::format("redirect to unsupported URL '{}'", next.str()), url.str());
        }
        // Keep the connection if the redirect's body is small and already coming.
        (void)co_await resp.read();
        if (status == 303 ? method != "HEAD" : (status == 301 || status == 302) && method == "POST") {
            method = "GET";
            body.reset();
            stream = nullptr;
            headers.erase("Content-Type");
        } else if (stream) {
            throw ClientError(fmt::format(
                "ClientError: {} redirect of {} {} to {} would send the body again, but it was streamed and is "
                "consumed; send it to the new URL yourself (allow_redirects=false gives you the redirect)",
                status, method, url.str(), next.str()));
        }
        if (next.origin() != url.origin()) {
            // What the caller gave for one origin is not sent to another (curl drops a
            // custom Cookie header too); the jar decides for its own cookies.
            headers.erase("Authorization");
            caller_cookies.clear();
            request_cookies.clear();
            request_cookie_names.clear();
        }
        history.push_back({status, url});
        url = std::move(next);
    }
}

Coro<ClientResponse> ClientSession::send_once(std::string_view method, const URL& url, const Headers& headers,
                                              const std::string* body, AsyncGenerator<std::string>* stream,
                                              const ClientTimeout& timeout,
                                              std::optional<Clock::time_point> deadline, std::vector<Redirect>& history) {
    std::shared_ptr<PoolState> pool = pool_;
    const std::string key = url.origin();
    std::string out;
    out.reserve(256 + (body ? body->size() : 0));
    Headers request_headers;
    request_headers.reserve(headers.size() + 3);
    request_headers.add("Host", url.authority());
    for (const auto& [k, v] : headers) request_headers.add(k, v);
    if (body) request_headers.set("Content-Length", std::to_string(body->size()));
    if (stream) {
        request_headers.erase("Content-Length");
        request_headers.set("Transfer-Encoding", "chunked");
    }
    write_request_head(out, method, url.target(), request_headers);
    if (body) out.append(*body);

    for (int attempt = 0;; ++attempt) {
        Lease lease;
        lease.pool = pool;
        // Waiting for a permit counts as connecting (aiohttp's connect timeout does too).
        auto acquire = [&]() -> Coro<> {
            if (Semaphore* slots = pool->host_slots(key)) lease.host_permit = co_await slots->scoped();
            lease.total_permit = co_await pool->total.scoped();
            // A retry after a stale pooled connection goes to a fresh one: the other
            // idle connections may be just as stale.
            if (attempt == 0) lease.conn = pool->take_idle(key, get_running_loop().time());
            if (!lease.conn) lease.conn = co_await connect(*pool, options_, url, key);
        };
        co_await bounded(acquire(), timeout.connect, deadline, Phase::kConnect, url);
        const bool reused = lease.conn->reused;
        std::optional<ResponseHead> head;
        bool streamed = false;  // the generator has started: the request cannot be sent again
        try {
            StreamWriter& writer = lease.conn->streams.writer;
            writer.write(out);
            if (stream) {
                streamed = true;
                co_await send_chunks(writer, *stream, timeout, deadline, url);
            }
            co_await bounded(writer.drain(), timeout.sock_read, deadline, Phase::kRead, url);
            head = co_await bounded(read_response_head(lease.conn->streams.reader), timeout.sock_read, deadline,
                                    Phase::kRead, url);
        } catch (const BadHttpMessage& e) {
            lease.finish(false);
            throw ClientResponseError(0, fmt::format("malformed response: {}", e.what()), url.str());
        } catch (const OSError& e) {
            lease.finish(false);
            // A pooled connection the server had closed: one fresh try for safe methods.
            if (reused && attempt == 0 && idempotent(method) && !streamed) continue;
            throw ClientConnectionError(fmt::format("ClientConnectionError: {} ({} {})", e.what(), method, url.str()));
        }
        if (!head) {
            lease.finish(false);
            if (reused && attempt == 0 && idempotent(method) && !streamed) continue;
            throw ServerDisconnectedError(
                fmt::format("ServerDisconnectedError: the server closed the connection without a response ({} {})", method,
                            url.str()));
        }
        auto state = std::make_unique<ResponseState>();
        state->keep_alive = head->keep_alive();
        BodyFraming framing;
        try {
            framing = response_framing(*head, method);
        } catch (const BadHttpMessage& e) {
            lease.finish(false);
            throw ClientResponseError(head->status, fmt::format("malformed response: {}", e.what()), url.str());
        }
        if (framing.kind == BodyFraming::kUntilClose) state->keep_alive = false;
        if (options_.auto_decompress && framing.kind != BodyFraming::kNone) {
            if (auto enc = head->headers.get("content-encoding")) state->decoder = detail::Decompressor::for_encoding(*enc);
        }
        state->body = BodyReader(lease.conn->streams.reader, framing);
        state->lease = std::move(lease);
        state->head = std::move(*head);
        state->url = url;
        state->method = std::string(method);
        state->history = history;
        state->sock_read = timeout.sock_read;
        state->deadline = deadline;
        if (state->body.done()) state->lease.finish(state->keep_alive);
        co_return ClientResponse(std::move(state));
    }
}

}  // namespace aio::http
