// HTTP header fields: case-insensitive, multi-valued and ordered (aiohttp's CIMultiDict).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aio::http {

/// ASCII case-insensitive equality, as header names and schemes compare.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

/// Header fields in the order they were added. Names compare case-insensitively and keep
/// the spelling they were added with; a name may occur more than once (`Set-Cookie`).
/// Thread-safety: a plain value type.
class Headers {
public:
    using Field = std::pair<std::string, std::string>;
    using const_iterator = std::vector<Field>::const_iterator;

    Headers() = default;
    /// `Headers{{"Accept", "text/html"}, {"X-Id", "7"}}`.
    Headers(std::initializer_list<std::pair<std::string_view, std::string_view>> fields);

    /// Appends a field, keeping any others of the same name.
    void add(std::string_view name, std::string_view value);
    /// Replaces every field named `name` with one holding `value`.
    void set(std::string_view name, std::string_view value);
    /// Adds the field only when no field of that name exists.
    void setdefault(std::string_view name, std::string_view value);
    /// Removes every field named `name`; returns how many were removed.
    std::size_t erase(std::string_view name);
    void clear() noexcept { fields_.clear(); }

    /// The first value of `name`, if any.
    [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const noexcept;
    /// The first value of `name`, or `fallback`.
    [[nodiscard]] std::string_view get(std::string_view name, std::string_view fallback) const noexcept;
    /// The first value of `name`; throws aio::KeyError naming the header when absent.
    [[nodiscard]] std::string_view at(std::string_view name) const;
    /// Every value of `name`, in order.
    [[nodiscard]] std::vector<std::string_view> get_all(std::string_view name) const;
    [[nodiscard]] bool contains(std::string_view name) const noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
    [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }
    [[nodiscard]] const_iterator begin() const noexcept { return fields_.begin(); }
    [[nodiscard]] const_iterator end() const noexcept { return fields_.end(); }
    void reserve(std::size_t n) { fields_.reserve(n); }

    /// Equal when the same fields appear in the same order (names case-insensitively).
    friend bool operator==(const Headers& a, const Headers& b) noexcept;

private:
    std::vector<Field> fields_;
};

/// Whether a comma-separated header value (`Connection: keep-alive, Upgrade`) lists
/// `token`, compared case-insensitively.
[[nodiscard]] bool has_token(std::string_view list, std::string_view token) noexcept;

}  // namespace aio::http
