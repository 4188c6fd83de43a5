#include "aio/http/server.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <ctime>
#include <list>

#include "aio/http/wire.hpp"
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

void append_response(std::string& out, const Response& resp, bool head_only, bool close) {
    const int status = resp.status();
    if (status < 100 || status > 999) throw ValueError(fmt::format("ValueError: invalid HTTP status {}", status));
    out.append("HTTP/1.1 ").append(fmt::format_int(status).c_str()).append(" ").append(reason_phrase(status));
    out.append("\r\nServer: aiocpp\r\nDate: ").append(http_date()).append("\r\n");
    const bool bodiless = status < 200 || status == 204 || status == 304;
    if (!bodiless) out.append("Content-Length: ").append(fmt::format_int(resp.body().size()).c_str()).append("\r\n");
    if (close) out.append("Connection: close\r\n");
    write_fields(out, resp.headers());
    if (!head_only && !bodiless) out.append(resp.body());
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
            head = co_await timeout_at(head_deadline, [&]() -> Coro<std::optional<RequestHead>> {
                co_return co_await read_request_head(reader, options.max_head_size);
            });
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
        out.clear();
        try {
            append_response(out, resp, head_only, close_after);
        } catch (const ValueError& e) {
            loop.call_exception_handler({fmt::format("Invalid response to {} {}", req.method(), req.target()),
                                         std::current_exception(), {}, {}});
            out.clear();
            append_response(out, error_response(500, "Internal Server Error"), head_only, true);
            close_after = true;
        }
        try {
            writer.write(out);
            co_await writer.drain();
        } catch (const OSError&) {
            break;
        }
        if (options.access_log) {
            const double ms = std::chrono::duration<double, std::milli>(loop.time() - started).count();
            fmt::print(options.access_log, "{} - \"{} {} HTTP/1.{}\" {} {} {:.1f}ms\n", remote, req.method(), req.target(),
                       req.version() % 10, resp.status(), resp.body().size(), ms);
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
