#include "aio/http/request.hpp"

#include <fmt/format.h>

#include "aio/http/wire.hpp"

namespace aio::http {

Request::Request(RequestHead head, App& app, BodyReader* body, std::string remote, std::size_t max_body)
    : head_(std::move(head)), app_(&app), body_reader_(body), remote_(std::move(remote)), max_body_(max_body) {
    std::string_view target = head_.target;
    if (auto scheme = target.find("://"); scheme != std::string_view::npos && target.front() != '/') {
        // absolute-form: keep the path and query
        auto slash = target.find('/', scheme + 3);
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    auto q = target.find('?');
    if (q != std::string_view::npos) {
        // Points into head_.target, which this object owns and never changes.
        query_string_ = std::string_view(head_.target).substr(head_.target.size() - (target.size() - q - 1));
        target = target.substr(0, q);
    }
    path_ = unquote(target);
}

const QueryItems& Request::query_params() const {
    if (!query_) query_ = parse_qsl(query_string_);
    return *query_;
}

std::optional<std::string_view> Request::query(std::string_view name) const {
    for (const auto& [k, v] : query_params()) {
        if (k == name) return std::string_view(v);
    }
    return std::nullopt;
}

std::vector<std::string_view> Request::query_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [k, v] : query_params()) {
        if (k == name) out.emplace_back(v);
    }
    return out;
}

std::optional<std::string_view> Request::cookie(std::string_view name) const {
    for (std::string_view header : head_.headers.get_all("cookie")) {
        while (!header.empty()) {
            auto semi = header.find(';');
            std::string_view pair = header.substr(0, semi);
            while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
            auto eq = pair.find('=');
            if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
                std::string_view value = pair.substr(eq + 1);
                if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
                return value;
            }
            if (semi == std::string_view::npos) break;
            header.remove_prefix(semi + 1);
        }
    }
    return std::nullopt;
}

std::string_view Request::path_param(std::string_view name) const {
    for (const auto& [k, v] : params_) {
        if (k == name) return v;
    }
    throw KeyError(fmt::format("KeyError: the route has no path parameter '{}'", name));
}

void Request::bad_param(std::string_view name, std::string_view text) {
    throw HTTPException(422, fmt::format("path parameter '{}': '{}' is not a valid value", name, text));
}

Coro<std::string> Request::read() {
    if (body_read_ || !body_reader_) co_return body_;
    body_ = co_await body_reader_->read_all(max_body_);
    body_read_ = true;
    co_return body_;
}

Coro<std::string> Request::text() { co_return co_await read(); }

Coro<nlohmann::json> Request::json() {
    std::string body = co_await read();
    try {
        co_return nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
        throw HTTPException(400, fmt::format("Invalid JSON body: {}", e.what()));
    }
}

Coro<std::string> Request::read_chunk(std::size_t max) {
    if (!body_reader_ || body_read_) co_return std::string();
    co_return co_await body_reader_->read_some(max);
}

}  // namespace aio::http
