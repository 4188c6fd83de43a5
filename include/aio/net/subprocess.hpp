// Child processes with pipe streams: asyncio's subprocess module (create_subprocess_exec,
// create_subprocess_shell, asyncio.subprocess.Process).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/net/streams.hpp"

namespace aio {

namespace detail {
struct ChildState;
}  // namespace detail

/// Where a child's standard stream goes (asyncio's `None`, `PIPE`, `DEVNULL`, `STDOUT`).
enum class Redirect : std::uint8_t {
    /// The parent's stream is inherited (asyncio's `None`, the default).
    inherit,
    /// A pipe: the parent gets a StreamWriter (stdin) or StreamReader (stdout, stderr)
    /// through `Process::stdin_()`, `stdout_()`, `stderr_()` (asyncio's `PIPE`).
    pipe,
    /// /dev/null (asyncio's `DEVNULL`).
    devnull,
    /// stderr only: into whatever stdout goes to (asyncio's `STDOUT`).
    stdout_,
};

/// Options of `create_subprocess_exec()` / `create_subprocess_shell()` (the keyword
/// arguments asyncio passes on to subprocess.Popen). The names carry a trailing `_`
/// because `stdin`, `stdout` and `stderr` may be macros in C and C++.
struct SubprocessOptions {
    Redirect stdin_ = Redirect::inherit;
    Redirect stdout_ = Redirect::inherit;
    Redirect stderr_ = Redirect::inherit;
    /// The child's working directory; empty: the parent's. A relative program path is
    /// resolved in it, as by Popen.
    std::string_view cwd = {};
    /// The child's whole environment as "KEY=VALUE" strings; nullptr inherits the
    /// parent's. It must stay alive until the create call has been awaited.
    const std::vector<std::string>* env = nullptr;
    /// The buffer limit of the stdout/stderr StreamReaders.
    std::size_t limit = kDefaultStreamLimit;
};
static_assert(std::is_trivially_destructible_v<SubprocessOptions>,
              "options structs must be trivially destructible (g++ 12)");

/// A child process started by `create_subprocess_exec/shell` (asyncio.subprocess.Process).
/// Move-only. A moved-from Process raises InvalidStateError from every member.
///
/// The child is reaped by its loop as soon as it exits, whether or not anyone waits, so
/// no zombie is left behind: destroying a Process whose child still runs leaves the child
/// running (its pipes are closed) and the loop keeps watching it until it exits. Nothing
/// installs a SIGCHLD handler. When the loop closes, children still running are neither
/// killed nor reaped any more (as in asyncio).
/// Thread-safety: loop-affine.
class Process {
public:
    Process(Process&&) noexcept = default;
    Process& operator=(Process&&) noexcept = default;
    ~Process();

    /// The child's process id.
    [[nodiscard]] int pid() const;
    /// The exit status once the child was reaped: the exit code, or `-N` if signal N
    /// killed it (as asyncio); nullopt while it runs.
    [[nodiscard]] std::optional<int> returncode() const;

    /// The pipe to the child's stdin (asyncio's `proc.stdin`). Raises InvalidStateError
    /// when stdin was not `Redirect::pipe`. Move it out to hand it to another task.
    [[nodiscard]] StreamWriter& stdin_();
    /// The pipe from the child's stdout (asyncio's `proc.stdout`); as `stdin_()`.
    [[nodiscard]] StreamReader& stdout_();
    /// The pipe from the child's stderr (asyncio's `proc.stderr`); as `stdin_()`.
    [[nodiscard]] StreamReader& stderr_();

    /// Waits for the child to exit and returns `returncode()` (Process.wait()). Several
    /// tasks may wait at once. It does not read the pipes: a child that fills a pipe
    /// nobody reads blocks, so use `communicate()` with pipes.
    /// Cancellation: Cancel-safe: the child keeps running and may be waited for again.
    /// Thread-safety: loop-affine.
    [[nodiscard]] Coro<int> wait();

    /// Writes `input` to stdin and closes it, reads stdout and stderr to end of stream,
    /// all three at once (so no pipe can fill up and deadlock), then waits for the child;
    /// returns {stdout, stderr} (Process.communicate()). A stream that is not a pipe gives
    /// an empty string (asyncio gives None). The child closing stdin early (EPIPE) is not
    /// an error. Non-empty `input` without a stdin pipe raises ValueError.
    /// Cancellation: Not cancel-safe: the output read so far is lost and stdin may be
    /// half-written; the child keeps running (as in asyncio).
    /// Thread-safety: loop-affine.
    [[nodiscard]] Coro<std::pair<std::string, std::string>> communicate(std::string_view input = {});

    /// Sends signal `sig` to the child (Process.send_signal()). Raises ProcessLookupError
    /// once the child has been reaped (its pid may belong to another process by then).
    void send_signal(int sig);
    /// SIGTERM (Process.terminate()).
    void terminate();
    /// SIGKILL (Process.kill()).
    void kill();

    Process(std::shared_ptr<detail::ChildState> child, StreamWriter in, StreamReader out, StreamReader err) noexcept;

private:
    detail::ChildState& child(const char* what) const;

    std::shared_ptr<detail::ChildState> child_;
    StreamWriter stdin_pipe_;
    StreamReader stdout_pipe_;
    StreamReader stderr_pipe_;
};

/// Starts `program` with `args` as argv[1…] (asyncio.create_subprocess_exec(program,
/// *args)); argv[0] is `program`. A name without '/' is looked up on PATH (the PATH of
/// `options.env` if it sets one). Raises FileNotFoundError or PermissionError naming the
/// program (or the cwd) when it cannot be run, ValueError for a NUL byte in any string or
/// a malformed option. The child starts with no blocked signals, SIGPIPE and SIGXFSZ at
/// their default action, and no file descriptor of the parent except 0, 1 and 2
/// (Popen's restore_signals and close_fds). The spawn itself is synchronous (glibc
/// waits for the exec); the call then yields once to the loop, as asyncio's does.
/// Cancellation: Cancel-safe: if cancelled, the child (already started) is killed and
/// the loop reaps it, as asyncio does.
/// Thread-safety: loop-affine.
[[nodiscard]] Coro<Process> create_subprocess_exec(std::string_view program, std::vector<std::string> args = {},
                                                   SubprocessOptions options = {});

/// Runs `cmd` with `/bin/sh -c cmd` (asyncio.create_subprocess_shell). Quote any
/// untrusted text yourself: the shell interprets it.
/// Cancellation: Cancel-safe: if cancelled, the child is killed and the loop reaps it.
/// Thread-safety: loop-affine.
[[nodiscard]] Coro<Process> create_subprocess_shell(std::string_view cmd, SubprocessOptions options = {});

namespace detail {
/// Tests only: watch children with a waiting thread each (the fallback used when the
/// kernel has no pidfd_open) instead of a pidfd on the loop.
void force_threaded_child_watcher(bool on) noexcept;
}  // namespace detail

}  // namespace aio
