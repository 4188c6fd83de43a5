// Every aiocpp error type, mirroring asyncio.exceptions.
#pragma once

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace aio {

/// Raised inside a task when it is cancelled (asyncio.CancelledError).
///
/// It derives from nothing in `std`, so `catch (const std::exception&)` cannot swallow a
/// cancellation, as `except Exception` cannot in Python. Library `catch (...)` blocks call
/// `rethrow_if_cancelled()`.
class CancelledError {
public:
    CancelledError() = default;
    explicit CancelledError(std::string message) : message_(std::move(message)) {}
    /// The message given to `Task::cancel(msg)`, empty if none.
    [[nodiscard]] const std::string& message() const noexcept { return message_; }
    [[nodiscard]] const char* what() const noexcept {
        return message_.empty() ? "CancelledError" : message_.c_str();
    }

private:
    std::string message_;
};

/// Raised at a suspended `co_yield` by `AsyncGenerator::aclose()` (Python's GeneratorExit).
/// Like CancelledError it derives from nothing in `std`.
class GeneratorExit {};

/// Base of every other aiocpp error.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// An operation exceeded its deadline (asyncio.TimeoutError, which is TimeoutError).
class TimeoutError : public Error {
public:
    TimeoutError() : Error("TimeoutError: the operation timed out") {}
    using Error::Error;
};

/// An argument or input has the right type but a bad value (Python's ValueError).
class ValueError : public Error {
public:
    using Error::Error;
};

/// A mapping has no entry for the key asked for (Python's KeyError).
class KeyError : public Error {
public:
    using Error::Error;
};

/// An operation is not allowed in the object's current state (asyncio.InvalidStateError).
class InvalidStateError : public Error {
public:
    using Error::Error;
};

/// Misuse of the runtime, e.g. `run()` inside a running loop (Python's RuntimeError).
class RuntimeError : public Error {
public:
    using Error::Error;
};

/// A system call failed; `code()` is its errno (Python's OSError). The message names the
/// error and what was being done: "[Errno 111] Connection refused (connect to 127.0.0.1:9)".
class OSError : public Error {
public:
    OSError(int code, const std::string& context);
    [[nodiscard]] int code() const noexcept { return code_; }

protected:
    OSError(const char* type, int code, const std::string& context);
    struct Verbatim {};
    OSError(Verbatim, int code, const std::string& message) : Error(message), code_(code) {}

private:
    int code_;
};

/// Base of the connection errors (Python's ConnectionError).
class ConnectionError : public OSError {
public:
    using OSError::OSError;
};

/// ECONNREFUSED (Python's ConnectionRefusedError).
class ConnectionRefusedError : public ConnectionError {
public:
    ConnectionRefusedError(int code, const std::string& context);
};

/// ECONNRESET, or a stream used after its connection was lost (ConnectionResetError).
class ConnectionResetError : public ConnectionError {
public:
    ConnectionResetError(int code, const std::string& context);
};

/// ECONNABORTED (Python's ConnectionAbortedError).
class ConnectionAbortedError : public ConnectionError {
public:
    ConnectionAbortedError(int code, const std::string& context);
};

/// EPIPE/ESHUTDOWN: writing to a connection the peer closed (Python's BrokenPipeError).
class BrokenPipeError : public ConnectionError {
public:
    BrokenPipeError(int code, const std::string& context);
};

/// ENOENT: a file, directory or program that does not exist (Python's FileNotFoundError).
class FileNotFoundError : public OSError {
public:
    FileNotFoundError(int code, const std::string& context);
};

/// EACCES/EPERM: the operation is not allowed (Python's PermissionError).
class PermissionError : public OSError {
public:
    PermissionError(int code, const std::string& context);
};

/// ESRCH: no such process, e.g. signalling a child already reaped (ProcessLookupError).
class ProcessLookupError : public OSError {
public:
    ProcessLookupError(int code, const std::string& context);
};

/// A host name could not be resolved (Python's socket.gaierror). `code()` is the resolver's
/// status; the message names the host: "GaiError: Domain name not found (resolving x.invalid)".
class GaiError : public OSError {
public:
    GaiError(int code, const std::string& reason, const std::string& host);
};

/// Raises the OSError subclass that matches `code` (as Python maps errno to classes).
[[noreturn]] void raise_os_error(int code, const std::string& context);

/// `readexactly()`/`readuntil()` hit EOF first; `partial()` holds the bytes read
/// (asyncio.IncompleteReadError). `expected()` is npos when no size was asked for.
class IncompleteReadError : public Error {
public:
    IncompleteReadError(std::string partial, std::size_t expected);
    [[nodiscard]] const std::string& partial() const noexcept { return partial_; }
    [[nodiscard]] std::size_t expected() const noexcept { return expected_; }

private:
    std::string partial_;
    std::size_t expected_;
};

/// A separator was not found within the buffer limit (asyncio.LimitOverrunError).
class LimitOverrunError : public Error {
public:
    LimitOverrunError(const std::string& message, std::size_t consumed)
        : Error(message), consumed_(consumed) {}
    [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }

private:
    std::size_t consumed_;
};

/// A Barrier was reset or aborted while tasks waited on it (asyncio.BrokenBarrierError).
class BrokenBarrierError : public Error {
public:
    BrokenBarrierError() : Error("BrokenBarrierError: the barrier is broken") {}
};

/// `get_nowait()` on an empty queue (asyncio.QueueEmpty).
class QueueEmpty : public Error {
public:
    QueueEmpty() : Error("QueueEmpty: the queue is empty") {}
};

/// `put_nowait()` on a full queue (asyncio.QueueFull).
class QueueFull : public Error {
public:
    QueueFull() : Error("QueueFull: the queue is full") {}
};

/// `put()`/`get()` on a queue that was shut down (asyncio.QueueShutDown, 3.13).
class QueueShutDown : public Error {
public:
    QueueShutDown() : Error("QueueShutDown: the queue has been shut down") {}
};

/// Several errors raised together, as by a TaskGroup (Python's ExceptionGroup).
class ExceptionGroup : public Error {
public:
    ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);

    [[nodiscard]] const std::string& message() const noexcept { return message_; }
    [[nodiscard]] const std::vector<std::exception_ptr>& exceptions() const noexcept {
        return exceptions_;
    }

    /// True if any leaf exception (nested groups are searched) is an `E`.
    template <class E>
    [[nodiscard]] bool contains() const {
        for (const auto& e : exceptions_) {
            if (matches<E>(e)) return true;
        }
        return false;
    }

    /// Splits into {the exceptions that are `E`, the rest}, keeping nesting, as
    /// `BaseExceptionGroup.split` does; each side is empty when nothing went there.
    template <class E>
    [[nodiscard]] std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> split() const {
        std::vector<std::exception_ptr> match, rest;
        for (const auto& e : exceptions_) {
            if (const ExceptionGroup* inner = as_group(e)) {
                auto [m, r] = inner->split<E>();
                if (m) match.push_back(std::make_exception_ptr(*m));
                if (r) rest.push_back(std::make_exception_ptr(*r));
            } else if (matches<E>(e)) {
                match.push_back(e);
            } else {
                rest.push_back(e);
            }
        }
        std::optional<ExceptionGroup> m, r;
        if (!match.empty()) m.emplace(message_, std::move(match));
        if (!rest.empty()) r.emplace(message_, std::move(rest));
        return {std::move(m), std::move(r)};
    }

private:
    template <class E>
    static bool matches(const std::exception_ptr& e) {
        if (const ExceptionGroup* inner = as_group(e)) return inner->contains<E>();
        try {
            std::rethrow_exception(e);
        } catch (const E&) {
            return true;
        } catch (...) {
            return false;
        }
    }
    static const ExceptionGroup* as_group(const std::exception_ptr& e) noexcept;

    std::string message_;
    std::vector<std::exception_ptr> exceptions_;
};

/// True if `e` holds an `aio::CancelledError`.
[[nodiscard]] bool is_cancelled(const std::exception_ptr& e) noexcept;

/// Inside `catch (...)`: rethrows the current exception if it is a CancelledError, so a
/// catch-all never swallows a cancellation.
void rethrow_if_cancelled();

/// "Type: message" for any exception, for reports and logs.
[[nodiscard]] std::string describe(const std::exception_ptr& e);

}  // namespace aio
