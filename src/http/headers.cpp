#include "aio/http/headers.hpp"

#include <algorithm>

#include "aio/exceptions.hpp"

namespace aio::http {

namespace {

constexpr char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

Headers::Headers(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
    fields_.reserve(fields.size());
    for (const auto& [name, value] : fields) add(name, value);
}

void Headers::add(std::string_view name, std::string_view value) {
    fields_.emplace_back(std::string(name), std::string(value));
}

void Headers::set(std::string_view name, std::string_view value) {
    auto first = std::find_if(fields_.begin(), fields_.end(), [&](const Field& f) { return iequals(f.first, name); });
    if (first == fields_.end()) {
        add(name, value);
        return;
    }
    first->second.assign(value);
    fields_.erase(std::remove_if(std::next(first), fields_.end(), [&](const Field& f) { return iequals(f.first, name); }),
                  fields_.end());
}

void Headers::setdefault(std::string_view name, std::string_view value) {
    if (!contains(name)) add(name, value);
}

std::size_t Headers::erase(std::string_view name) {
    const auto before = fields_.size();
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(), [&](const Field& f) { return iequals(f.first, name); }),
                  fields_.end());
    return before - fields_.size();
}

std::optional<std::string_view> Headers::get(std::string_view name) const noexcept {
    for (const auto& f : fields_) {
        if (iequals(f.first, name)) return std::string_view(f.second);
    }
    return std::nullopt;
}

std::string_view Headers::get(std::string_view name, std::string_view fallback) const noexcept {
    auto v = get(name);
    return v ? *v : fallback;
}

std::string_view Headers::at(std::string_view name) const {
    auto v = get(name);
    if (!v) {
        std::string msg = "KeyError: no header '";
        msg.append(name).append("'");
        throw KeyError(msg);
    }
    return *v;
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& f : fields_) {
        if (iequals(f.first, name)) out.emplace_back(f.second);
    }
    return out;
}

bool Headers::contains(std::string_view name) const noexcept { return get(name).has_value(); }

bool operator==(const Headers& a, const Headers& b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const Headers::Field& x, const Headers::Field& y) {
                          return iequals(x.first, y.first) && x.second == y.second;
                      });
}

bool has_token(std::string_view list, std::string_view token) noexcept {
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && is_ows(item.front())) item.remove_prefix(1);
        while (!item.empty() && is_ows(item.back())) item.remove_suffix(1);
        if (iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace aio::http
