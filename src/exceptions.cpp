#include "aio/exceptions.hpp"

#include <cxxabi.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <typeinfo>

namespace aio {

IncompleteReadError::IncompleteReadError(std::string partial, std::size_t expected)
    : Error("IncompleteReadError: " + std::to_string(partial.size()) + " bytes read on a total of " +
            (expected == std::string::npos ? std::string("undefined") : std::to_string(expected)) +
            " expected bytes"),
      partial_(std::move(partial)),
      expected_(expected) {}

namespace {
std::string os_message(const char* type, int code, const std::string& context) {
    std::string m = std::string(type) + ": [Errno " + std::to_string(code) + "] " + std::strerror(code);
    if (!context.empty()) m += " (" + context + ")";
    return m;
}
}  // namespace

OSError::OSError(int code, const std::string& context) : OSError("OSError", code, context) {}
OSError::OSError(const char* type, int code, const std::string& context)
    : Error(os_message(type, code, context)), code_(code) {}
ConnectionRefusedError::ConnectionRefusedError(int code, const std::string& context)
    : ConnectionError("ConnectionRefusedError", code, context) {}
ConnectionResetError::ConnectionResetError(int code, const std::string& context)
    : ConnectionError("ConnectionResetError", code, context) {}
ConnectionAbortedError::ConnectionAbortedError(int code, const std::string& context)
    : ConnectionError("ConnectionAbortedError", code, context) {}
BrokenPipeError::BrokenPipeError(int code, const std::string& context)
    : ConnectionError("BrokenPipeError", code, context) {}
FileNotFoundError::FileNotFoundError(int code, const std::string& context)
    : OSError("FileNotFoundError", code, context) {}
PermissionError::PermissionError(int code, const std::string& context)
    : OSError("PermissionError", code, context) {}
ProcessLookupError::ProcessLookupError(int code, const std::string& context)
    : OSError("ProcessLookupError", code, context) {}

GaiError::GaiError(int code, const std::string& reason, const std::string& host)
    : OSError(Verbatim{}, code, "GaiError: " + reason + " (resolving " + host + ")") {}

void raise_os_error(int code, const std::string& context) {
    switch (code) {
        case ECONNREFUSED: throw ConnectionRefusedError(code, context);
        case ECONNRESET: throw ConnectionResetError(code, context);
        case ECONNABORTED: throw ConnectionAbortedError(code, context);
        case EPIPE:
        case ESHUTDOWN: throw BrokenPipeError(code, context);
        case ENOENT: throw FileNotFoundError(code, context);
        case EACCES:
        case EPERM: throw PermissionError(code, context);
        case ESRCH: throw ProcessLookupError(code, context);
        case ETIMEDOUT: throw TimeoutError("TimeoutError: [Errno " + std::to_string(code) + "] " + std::strerror(code) +
                                           (context.empty() ? "" : " (" + context + ")"));
        default: throw OSError(code, context);
    }
}

ExceptionGroup::ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
    : Error(message + " (" + std::to_string(exceptions.size()) + " sub-exception" +
            (exceptions.size() == 1 ? "" : "s") + ")"),
      message_(std::move(message)),
      exceptions_(std::move(exceptions)) {}

const ExceptionGroup* ExceptionGroup::as_group(const std::exception_ptr& e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const ExceptionGroup& g) {
        // exception_ptr keeps the object alive; the caller holds `e`.
        return &g;
    } catch (...) {
        return nullptr;
    }
}

bool is_cancelled(const std::exception_ptr& e) noexcept {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}

void rethrow_if_cancelled() {
    try {
        throw;
    } catch (const CancelledError&) {
        throw;
    } catch (...) {
    }
}

namespace detail {
std::string demangle(const char* name) {
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                                     &std::free);
    return status == 0 && out ? std::string(out.get()) : std::string(name);
}
}  // namespace detail
using detail::demangle;

std::string describe(const std::exception_ptr& e) {
    if (!e) return "no exception";
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError& c) {
        return c.message().empty() ? "aio::CancelledError" : "aio::CancelledError: " + c.message();
    } catch (const std::exception& x) {
        return demangle(typeid(x).name()) + ": " + x.what();
    } catch (...) {
        const std::type_info* t = abi::__cxa_current_exception_type();
        return t ? demangle(t->name()) + " (not derived from std::exception)" : "unknown exception";
    }
}

}  // namespace aio
