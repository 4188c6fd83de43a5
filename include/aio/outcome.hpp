// Outcome<T>: a value or an exception, what gather(return_exceptions) returns per child.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "aio/exceptions.hpp"

namespace aio {

/// A finished operation's value or exception (the element type of
/// `gather(aio::return_exceptions, …)`; a cancelled child holds a CancelledError).
template <class T>
class Outcome {
    static_assert(!std::is_void_v<T>, "use Outcome<std::monostate> for void results");

public:
    Outcome(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    Outcome(std::exception_ptr error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    /// The value; rethrows the exception if there is none.
    T& value() & {
        if (!has_value()) std::rethrow_exception(std::get<1>(v_));
        return std::get<0>(v_);
    }
    const T& value() const& {
        if (!has_value()) std::rethrow_exception(std::get<1>(v_));
        return std::get<0>(v_);
    }
    T&& value() && {
        if (!has_value()) std::rethrow_exception(std::get<1>(v_));
        return std::get<0>(std::move(v_));
    }
    /// The exception, or nullptr if there is a value.
    [[nodiscard]] std::exception_ptr exception() const noexcept {
        return has_value() ? nullptr : std::get<1>(v_);
    }
    /// True if the exception is a CancelledError.
    [[nodiscard]] bool cancelled() const noexcept { return !has_value() && is_cancelled(std::get<1>(v_)); }

private:
    std::variant<T, std::exception_ptr> v_;
};

/// `void` results appear as std::monostate in tuples, vectors and variants.
template <class T>
using value_or_monostate_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

}  // namespace aio
