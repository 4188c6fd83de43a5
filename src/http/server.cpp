#include "aio/http/server.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <ctime>
#include <list>

#include "aio/http/wire.hpp"
#include "http/file_response.hpp"
#include "aio/locks.hpp"
#include "aio/net/streams.hpp"
#include "aio/runners.hpp"
#include "aio/task.hpp"
#include "aio/timeouts.hpp"

namespace aio::http {

namespace detail {

struct Connection {
    AnyTask task;
    bool busy = false;
};

struct HttpServerCore {
    App* app = nullptr;
    ServeOptions options;
    Server net;
    std::list<Connection> connections;
    bool shutting_down = false;
    Event drained;  // set when shutting down and the last connection closed

    Coro<> serve_connection(StreamReader reader, StreamWriter writer);
    /// Sends a Response::stream() or Response::file(); returns the body bytes sent and
    /// sets `close` when the connection cannot carry another response.
    /// Cancellation: Not cancel-safe: the response is cut short; close the connection.
    Coro<std::uint64_t> send_special(StreamWriter& writer, const Request& req, Response& resp, bool head_only,
                                     bool& close);
    Coro<std::uint64_t> send_stream(StreamWriter& writer, const Request& req, Response& resp, bool head_only,
                                    bool& close);
    Coro<std::uint64_t> send_file(StreamWriter& writer, const Request& req, Response& resp, bool head_only,
                                  bool& close);
};

}  // namespace detail

namespace {

using detail::HttpServerCore;

// "Sun, 22 Nov 2026 10:44:11 GMT", formatted at most once a second.
std::string_view http_date() {
    thread_local std::time_t cached = 0;
    thread_local char buf[40];
    const std::time_t now = std::time(nullptr);
    if (now != cached) {
        cached = now;
        std::tm tm{};
        ::gmtime_r(&now, &tm);
        std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    }
    return buf;
}

// The status line and header fields; `more` are added after the response's own, and
// `length` is the Content-Length (none: the body is chunked, or ends with the connection).
void append_head(std::string& out, int status, const Headers& headers, const Headers* more,
                 std::optional<std::uint64_t> length, bool chunked, bool close) {
    if (status < 100 || status > 999) throw ValueError(fmt::format("ValueError: invalid HTTP status {}", status));
    out.append("HTTP/1.1 ").append(fmt::format_int(status).c_str()).append(" ").append(reason_phrase(status));
    out.append("\r\nServer: aiocpp\r\nDate: ").append(http_date()).append("\r\n");
    const bool bodiless = status < 200 || status == 204 || status == 304;
    if (!bodiless && length) out.append("Content-Length: ").append(fmt::format_int(*length).c_str()).append("\r\n");
    if (!bodiless && chunked) out.append("Transfer-Encoding: chunked\r\n");
    if (close) out.append("Connection: close\r\n");
    if (more) write_fields(out, *more, false);
    write_fields(out, headers);
}

bool bodiless_status(int status) noexcept { return status < 200 || status == 204 || status == 304; }

void append_response(std::string& out, const Response& resp, bool head_only, bool close) {
    append_head(out, resp.status(), resp.headers(), nullptr, resp.body().size(), false, close);
    if (!head_only && !bodiless_status(resp.status())) out.append(resp.body());
}

Response error_response(int status, std::string_view detail) {
    return Response::json(nlohmann::json{{"detail", detail}}, status);
}

}  // namespace

Coro<> detail::HttpServerCore::serve_connection(StreamReader reader, StreamWriter writer) {
    if (shutting_down || (options.max_connections && connections.size() >= options.max_connections)) {
        std::string out;
        append_response(out, error_response(503, "Service Unavailable: too many connections"), false, true);
        writer.write(out);
        writer.close();
        co_return;
    }
    auto self = connections.insert(connections.end(), Connection{current_task(), false});
    struct Unregister {
        HttpServerCore* core;
        std::list<Connection>::iterator it;
        ~Unregister() {
            core->connections.erase(it);
            if (core->shutting_down && core->connections.empty()) core->drained.set();
        }
    } unregister{this, self};

    std::string remote;
    try {
        remote = writer.peername().to_string();
    } catch (const std::exception&) {
        remote = "-";
    }
    auto& loop = get_running_loop();
    std::string out;
    bool first = true;
    for (;;) {
        self->busy = false;
        if (shutting_down) break;
        // The head must arrive within header_timeout (keepalive_timeout while idle
        // between requests); a slow partial head gets 408, an idle connection just closes.
        std::optional<RequestHead> head;
        const auto head_deadline = loop.time() + (first ? options.header_timeout : options.keepalive_timeout);
        bool timed_out = false;
        try {
            // The scope is used directly (not through timeout_at) to spare the hot path
            // the wrapper coroutines: this runs once per request.
            Timeout scope(head_deadline);
            scope.enter();
            std::exception_ptr failed;
            try {
                head = co_await read_request_head(reader, options.max_head_size);
            } catch (...) {
                failed = std::current_exception();
            }
            scope.exit(failed);
        } catch (const TimeoutError&) {
            timed_out = true;
        } catch (const BadHttpMessage& e) {
            out.clear();
            append_response(out, error_response(e.status(), e.what()), false, true);
            writer.write(out);
            break;
        } catch (const OSError&) {
            break;  // reset by the peer
        }
        if (timed_out) {
            if (reader.buffered() > 0) {
                out.clear();
                append_response(out, error_response(408, "Request Timeout: the request head took too long"), false, true);
                writer.write(out);
            }
            break;
        }
        if (!head) break;
        first = false;
        self->busy = true;
        const auto started = loop.time();

        BodyFraming framing;
        try {
            framing = request_framing(*head);
        } catch (const BadHttpMessage& e) {
            out.clear();
            append_response(out, error_response(e.status(), e.what()), false, true);
            writer.write(out);
            break;
        }
        if (framing.kind == BodyFraming::kLength && framing.length > options.max_body_size) {
            out.clear();
            append_response(out, error_response(413, fmt::format("Content Too Large: the body may be at most {} bytes",
                                                                 options.max_body_size)),
                            false, true);
            writer.write(out);
            break;
        }
        if (framing.kind != BodyFraming::kNone && has_token(head->headers.get("expect", ""), "100-continue")) {
            writer.write("HTTP/1.1 100 Continue\r\n\r\n");
        }
        BodyReader body(reader, framing);
        Request req(std::move(*head), *app, &body, remote, options.max_body_size);
        const bool head_only = req.method() == "HEAD";
        bool close_after = !req.keep_alive();
        Response resp;
        std::exception_ptr failure;
        try {
            if (options.request_timeout) {
                resp = co_await timeout(*options.request_timeout, [&]() -> Coro<Response> { co_return co_await app->dispatch(req); });
            } else {
                resp = co_await app->dispatch(req);
            }
        } catch (const BadHttpMessage& e) {
            resp = error_response(e.status(), e.what());  // the body was malformed or too large
            close_after = true;
        } catch (const TimeoutError&) {
            if (options.request_timeout && loop.time() - started >= *options.request_timeout) {
                resp = error_response(503, "Service Unavailable: the request timed out");
                close_after = true;
            } else {
                failure = std::current_exception();
            }
        } catch (const CancelledError&) {
            throw;
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) {
            // Like uvicorn: log the traceback, answer 500, keep serving.
            loop.call_exception_handler(
                {fmt::format("Exception in HTTP handler for {} {}", req.method(), req.target()), failure, {}, {}});
            resp = error_response(500, "Internal Server Error");
        }
        if (shutting_down) close_after = true;
        // Whatever the handler left of the body must go before the next request.
        if (!close_after && !body.done()) {
            try {
                close_after = !co_await body.discard(options.max_body_size);
            } catch (const BadHttpMessage&) {
                close_after = true;
            } catch (const OSError&) {
                close_after = true;
            }
        }
        std::uint64_t body_bytes = 0;
        bool invalid = false;
        try {
            if (resp.body_stream() || !resp.file_path().empty()) {
                body_bytes = co_await send_special(writer, req, resp, head_only, close_after);
            } else {
                out.clear();
                append_response(out, resp, head_only, close_after);
                writer.write(out);
                if (!head_only) body_bytes = resp.body().size();
            }
        } catch (const ValueError& e) {
            loop.call_exception_handler({fmt::format("Invalid response to {} {}", req.method(), req.target()),
                                         std::current_exception(), {}, {}});
            invalid = true;
        } catch (const OSError&) {
            break;
        }
        try {
            if (invalid) {
                // Nothing of the invalid response was written.
                out.clear();
                resp = error_response(500, "Internal Server Error");
                append_response(out, resp, head_only, true);
                writer.write(out);
                close_after = true;
            }
            co_await writer.drain();
        } catch (const OSError&) {
            break;
        }
        if (options.access_log) {
            const double ms = std::chrono::duration<double, std::milli>(loop.time() - started).count();
            fmt::print(options.access_log, "{} - \"{} {} HTTP/1.{}\" {} {} {:.1f}ms\n", remote, req.method(), req.target(),
                       req.version() % 10, resp.status(), body_bytes, ms);
        }
        for (auto& task : req.background_tasks()) {
            std::exception_ptr error;
            try {
                co_await task();
            } catch (const CancelledError&) {
                throw;
            } catch (...) {
                error = std::current_exception();
            }
            if (error) {
                loop.call_exception_handler(
                    {fmt::format("Exception in background task of {} {}", req.method(), req.target()), error, {}, {}});
            }
        }
        if (close_after) break;
    }
    writer.close();
}

Coro<std::uint64_t> detail::HttpServerCore::send_special(StreamWriter& writer, const Request& req, Response& resp,
                                                        bool head_only, bool& close) {
    if (resp.body_stream()) co_return co_await send_stream(writer, req, resp, head_only, close);
    co_return co_await send_file(writer, req, resp, head_only, close);
}

Coro<std::uint64_t> detail::HttpServerCore::send_stream(StreamWriter& writer, const Request& req, Response& resp,
                                                       bool head_only, bool& close) {
    AsyncGenerator<std::string>& body = *resp.body_stream();
    // HTTP/1.0 has no chunked coding: the body ends with the connection.
    const bool chunked = req.version() >= 11;
    if (!chunked) close = true;
    std::string out;
    append_head(out, resp.status(), resp.headers(), nullptr, std::nullopt, chunked, close);
    writer.write(out);
    if (head_only || bodiless_status(resp.status())) {
        co_await body.aclose();
        co_return 0;
    }
    std::uint64_t sent = 0;
    std::exception_ptr failure;
    bool lost = false;
    try {
        while (auto piece = co_await body.next()) {
            if (piece->empty()) continue;  // an empty chunk would end the body
            sent += piece->size();
            if (chunked) {
                out.clear();
                append_chunk(out, *piece);
                writer.write(out);
            } else {
                writer.write(*piece);
            }
            co_await writer.drain();
        }
    } catch (const OSError&) {
        lost = true;  // the client went away
    } catch (...) {
        failure = std::current_exception();
    }
    if (lost || failure) {
        close = true;
        std::exception_ptr cleanup;
        try {
            co_await body.aclose();
        } catch (...) {
            cleanup = std::current_exception();
        }
        if (!failure) failure = cleanup;
        if (failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const CancelledError&) {
                throw;
            } catch (...) {
            }
            get_running_loop().call_exception_handler(
                {fmt::format("Exception in streaming response to {} {} (the body was cut short)", req.method(),
                             req.target()),
                 failure, {}, {}});
        }
        co_return sent;
    }
    if (chunked) writer.write(kLastChunk);
    co_return sent;
}

Coro<std::uint64_t> detail::HttpServerCore::send_file(StreamWriter& writer, const Request& req, Response& resp,
                                                     bool head_only, bool& close) {
    std::optional<FilePlan> plan;
    try {
        plan.emplace(plan_file(resp.file_path(), resp.status(), resp.headers(), req.method(), req.headers()));
    } catch (const OSError&) {
        get_running_loop().call_exception_handler(
            {fmt::format("Cannot serve file '{}' to {} {}", resp.file_path(), req.method(), req.target()),
             std::current_exception(), {}, {}});
        plan.reset();
    }
    std::string out;
    if (!plan || plan->answer) {
        resp = plan ? std::move(*plan->answer) : error_response(500, "Internal Server Error");
        append_response(out, resp, head_only, close);
        writer.write(out);
        co_return head_only ? 0 : resp.body().size();
    }
    resp.set_status(plan->status);
    append_head(out, plan->status, resp.headers(), &plan->headers, plan->length, false, close);
    writer.write(out);
    if (head_only || plan->length == 0) co_return 0;
    const std::size_t sent = co_await writer.sendfile(plan->fd, plan->offset, plan->length);
    if (sent < plan->length) {
        // The file shrank while being sent: the promised length cannot be kept.
        get_running_loop().call_exception_handler(
            {fmt::format("File '{}' ended after {} of {} bytes while serving {} {}", resp.file_path(), sent,
                         plan->length, req.method(), req.target()),
             nullptr, {}, {}});
        close = true;
    }
    co_return sent;
}

// ---- HttpServer ----------------------------------------------------------------------------

HttpServer::HttpServer(std::shared_ptr<detail::HttpServerCore> core) noexcept : core_(std::move(core)) {}
HttpServer::HttpServer(HttpServer&&) noexcept = default;
HttpServer& HttpServer::operator=(HttpServer&& o) noexcept {
    if (this != &o) {
        close();
        core_ = std::move(o.core_);
    }
    return *this;
}
HttpServer::~HttpServer() { close(); }

std::uint16_t HttpServer::port() const { return core_ ? core_->net.port() : 0; }
std::size_t HttpServer::connection_count() const noexcept { return core_ ? core_->connections.size() : 0; }

void HttpServer::close() {
    if (!core_) return;
    core_->shutting_down = true;
    core_->net.close();
}

Coro<> HttpServer::wait_closed() {
    if (!core_) co_return;
    auto core = core_;
    co_await core->net.wait_closed();
}

Coro<> HttpServer::shutdown(std::optional<std::chrono::milliseconds> grace) {
    if (!core_) co_return;
    auto core = core_;
    core->shutting_down = true;
    core->net.stop_listening();  // new clients are refused while in-flight requests finish
    if (core->connections.empty()) core->drained.set();
    for (auto& c : core->connections) {
        if (!c.busy) c.task.cancel("server shutting down");  // idle keep-alive: close now
    }
    try {
        co_await timeout(grace.value_or(core->options.graceful_timeout), [&]() -> Coro<> { co_await core->drained.wait(); });
    } catch (const TimeoutError&) {
        // Grace is over: what is left is cancelled below.
    }
    core->net.close();
    co_await core->net.wait_closed();
}

Coro<HttpServer> start_http_server(App& app, ServeOptions options) {
    auto core = std::make_shared<detail::HttpServerCore>();
    core->app = &app;
    core->options = options;
    ServerOptions net_options;
    net_options.backlog = options.backlog;
    net_options.reuse_port = options.reuse_port;
    net_options.ssl = options.ssl;
    net_options.limit = std::max<std::size_t>(options.max_head_size, 64 * 1024);
    detail::HttpServerCore* raw = core.get();
    ClientConnected handler = [raw](StreamReader reader, StreamWriter writer) {
        return raw->serve_connection(std::move(reader), std::move(writer));
    };
    core->net = co_await start_server(std::move(handler), options.host, options.port, net_options);
    co_return HttpServer(std::move(core));
}

Coro<> serve(App& app, ServeOptions options) {
    co_await app.startup();
    std::exception_ptr failure;
    bool cancelled = false;
    {
        HttpServer server;
        try {
            server = co_await start_http_server(app, options);
            Event forever;
            co_await forever.wait();
        } catch (const CancelledError&) {
            cancelled = true;
        } catch (...) {
            failure = std::current_exception();
        }
        co_await server.shutdown();
    }
    co_await app.shutdown();
    if (failure) std::rethrow_exception(failure);
    if (cancelled) throw CancelledError("server stopped");
}

int run_app(App& app, ServeOptions options) {
    if (!options.access_log) options.access_log = stdout;
    bool terminated = false;
    auto main = [&]() -> Coro<int> {
        AnyTask me = current_task();
        get_running_loop().add_signal_handler(SIGTERM, [me, &terminated]() mutable {
            terminated = true;
            me.cancel("SIGTERM");
        });
        fmt::print(stderr, "aiocpp: serving on http{}://{}:{} (Ctrl-C or SIGTERM to stop)\n", options.ssl ? "s" : "",
                   options.host.empty() ? "0.0.0.0" : options.host, options.port);
        try {
            co_await serve(app, options);
        } catch (const CancelledError&) {
            if (!terminated) throw;  // Ctrl-C: aio::run re-raises SIGINT after cleanup
        }
        get_running_loop().remove_signal_handler(SIGTERM);
        co_return 0;
    };
    return run(main());
}

}  // namespace aio::http
