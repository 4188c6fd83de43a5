// Child processes: asyncio's subprocess.py, base_subprocess.py and the child watchers of
// unix_events.py.
//
// A child's life as this file sees it:
//
//   posix_spawn ──watch()──► watched ──it exits: pidfd readable, or the waiter thread──► reaped
//                            (held by the loop's       posts; waitpid(WNOHANG) runs on    returncode set,
//                             ChildWatcher, whether     the loop thread)                   `exited` set,
//                             a Process exists or not)                                     watch dropped
//      watched ──the loop closes──► dropped: not killed, not reaped, returncode stays nullopt
//
// Reaping. Each child gets a pidfd (pidfd_open, Linux 5.3+) watched with the loop's
// add_reader; it becomes readable when the child exits, and the loop thread then reaps
// that one pid with waitpid(WNOHANG). Without pidfd_open (ENOSYS, or a seccomp filter's
// EPERM) each child gets a thread blocked in waitid(WEXITED | WNOWAIT), which waits
// without reaping and posts to the loop with call_soon_threadsafe; the loop thread reaps
// as above (asyncio's ThreadedChildWatcher, minus its race: the pid is only freed on the
// loop thread, so send_signal() can never hit a recycled pid). Only our own pids are
// ever waited for, and no SIGCHLD handler is installed, so other users of SIGCHLD and of
// waitpid(pid) keep working. If someone else reaps our child anyway (waitpid(-1) in a
// SIGCHLD handler), the returncode is unknown: 255 and a report, as asyncio does.
//
// Orphans. The watcher (a per-loop service) owns the watch, not the Process: a Process
// destroyed while its child runs only drops its pipes, and the child is still reaped
// when it exits. A watched child counts as external work (begin_external), so the
// virtual-clock test loop does not jump its clock past a child that is still running.
#include "aio/net/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "aio/exceptions.hpp"
#include "aio/locks.hpp"
#include "aio/loop.hpp"
#include "aio/sleep.hpp"
#include "aio/tasks.hpp"

namespace aio {
namespace detail {

struct ChildState {
    pid_t pid = -1;
    std::optional<int> returncode;
    Event exited;
    std::string program;           // for reports
    EventLoop* loop = nullptr;     // the loop whose watcher reaps it
    bool dropped = false;          // that loop closed first: nothing will reap it now
};

namespace {

std::atomic<bool> g_no_pidfd{false};        // pidfd_open is missing: always use threads
std::atomic<bool> g_force_threads{false};   // the test switch

/// A plain owned fd.
class Fd {
public:
    Fd() noexcept = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    [[nodiscard]] int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    explicit operator bool() const noexcept { return fd_ >= 0; }

private:
    int fd_ = -1;
};

int decode_status(int status) noexcept {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return 255;
}

class ChildWatcher;

/// What a waiter thread needs to reach its loop; `loop` is cleared (under the mutex) when
/// the watcher goes away, after which threads post nothing.
struct ThreadRelay {
    std::mutex mutex;
    EventLoop* loop = nullptr;
    ChildWatcher* watcher = nullptr;
};

/// The loop's children that have not been reaped yet (a per-loop service).
class ChildWatcher final : public EventLoop::Service {
public:
    ChildWatcher() = default;
    ChildWatcher(const ChildWatcher&) = delete;
    ChildWatcher& operator=(const ChildWatcher&) = delete;

    ~ChildWatcher() override {
        // Loop close: children still running are left alone (asyncio does not kill them
        // either); only our interest in them ends.
        if (relay_) {
            std::lock_guard lock(relay_->mutex);
            relay_->loop = nullptr;
        }
        for (auto& [pid, w] : watches_) {
            w.child->dropped = true;
            if (w.pidfd >= 0) {
                loop_->remove_reader(w.pidfd);
                ::close(w.pidfd);
            }
            loop_->end_external();
        }
    }

    /// Starts watching `child`. On failure nothing is watched and the caller must deal
    /// with the child.
    void watch(EventLoop& loop, const std::shared_ptr<ChildState>& child) {
        loop_ = &loop;
        child->loop = &loop;
        const pid_t pid = child->pid;
        int pidfd = -1;
        if (!g_no_pidfd.load(std::memory_order_relaxed) && !g_force_threads.load(std::memory_order_relaxed)) {
            pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // always close-on-exec
            if (pidfd < 0 && (errno == ENOSYS || errno == EPERM)) g_no_pidfd.store(true, std::memory_order_relaxed);
            // Any other failure (EMFILE…) falls back to a thread for this child only.
        }
        Fd owned(pidfd);
        auto [it, inserted] = watches_.emplace(pid, Watch{child, pidfd});
        if (!inserted) throw RuntimeError("RuntimeError: child process " + std::to_string(pid) + " is already watched");
        try {
            if (pidfd >= 0) {
                loop.add_reader(pidfd, [this, pid] { on_exit(pid); });
            } else {
                start_thread(pid);
            }
        } catch (...) {
            watches_.erase(it);
            throw;
        }
        owned.release();
        loop.begin_external();
    }

private:
    struct Watch {
        std::shared_ptr<ChildState> child;
        int pidfd = -1;
    };

    void start_thread(pid_t pid) {
        if (!relay_) {
            relay_ = std::make_shared<ThreadRelay>();
            relay_->loop = loop_;
            relay_->watcher = this;
        }
        std::thread([relay = relay_, pid] {
            siginfo_t info{};
            // WNOWAIT: the child stays a zombie, so its pid cannot be reused until the
            // loop thread reaps it.
            while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
            }
            std::lock_guard lock(relay->mutex);
            if (!relay->loop) return;
            ChildWatcher* watcher = relay->watcher;
            try {
                relay->loop->call_soon_threadsafe([watcher, pid] { watcher->on_exit(pid); });
            } catch (...) {
                // Out of memory on a detached thread: nobody to tell. The loop is still
                // running, so this cannot be "Event loop is closed".
            }
        }).detach();
    }

    /// The child `pid` has exited (or a stale readiness callback: the lookup and WNOHANG
    /// make a repeat harmless).
    void on_exit(pid_t pid) {
        auto it = watches_.find(pid);
        if (it == watches_.end()) return;
        int status = 0;
        pid_t r;
        do {
            r = ::waitpid(pid, &status, WNOHANG);
        } while (r < 0 && errno == EINTR);
        if (r == 0) return;  // still running
        const int err = r < 0 ? errno : 0;
        Watch w = std::move(it->second);
        watches_.erase(it);
        if (w.pidfd >= 0) {
            loop_->remove_reader(w.pidfd);
            ::close(w.pidfd);
        }
        loop_->end_external();
        int code = 255;
        if (r == pid) {
            code = decode_status(status);
        } else {
            loop_->call_exception_handler(
                {"Unknown exit status of child process " + std::to_string(pid) + " ('" + w.child->program +
                     "'): it was reaped by someone else (waitpid: " + std::strerror(err) +
                     "), e.g. a SIGCHLD handler calling waitpid(-1); returncode set to 255",
                 nullptr, {}, {}});
        }
        w.child->returncode = code;
        w.child->exited.set();
    }

    EventLoop* loop_ = nullptr;
    std::unordered_map<pid_t, Watch> watches_;
    std::shared_ptr<ThreadRelay> relay_;
};

// ---- spawning ----

struct FileActions {
    posix_spawn_file_actions_t fa;
    FileActions() {
        if (int e = ::posix_spawn_file_actions_init(&fa)) raise_os_error(e, "posix_spawn_file_actions_init");
    }
    ~FileActions() { ::posix_spawn_file_actions_destroy(&fa); }
    FileActions(const FileActions&) = delete;
    FileActions& operator=(const FileActions&) = delete;
    void check(int e, const char* what) const {
        if (e != 0) raise_os_error(e, what);
    }
};

struct SpawnAttr {
    posix_spawnattr_t attr;
    SpawnAttr() {
        if (int e = ::posix_spawnattr_init(&attr)) raise_os_error(e, "posix_spawnattr_init");
    }
    ~SpawnAttr() { ::posix_spawnattr_destroy(&attr); }
    SpawnAttr(const SpawnAttr&) = delete;
    SpawnAttr& operator=(const SpawnAttr&) = delete;
};

/// A pipe, both ends close-on-exec; the child's end is moved above 2 so that dup2 onto
/// 0/1/2 always makes a fresh, inheritable descriptor.
struct Pipe {
    Fd read_end, write_end;
};
Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) raise_os_error(errno, "pipe2 for a child process");
    return {Fd(fds[0]), Fd(fds[1])};
}
Fd above_stdio(Fd fd) {
    if (fd.get() > 2) return fd;
    const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
    if (moved < 0) raise_os_error(errno, "fcntl(F_DUPFD_CLOEXEC) for a child process");
    return Fd(moved);
}

void check_no_nul(std::string_view s, const char* what) {
    if (s.find('\0') != std::string_view::npos)
        throw ValueError(std::string("ValueError: embedded null byte in ") + what);
}

const char* redirect_name(Redirect r) noexcept {
    switch (r) {
        case Redirect::inherit: return "inherit";
        case Redirect::pipe: return "pipe";
        case Redirect::devnull: return "devnull";
        case Redirect::stdout_: return "stdout_";
    }
    return "an invalid value";
}

void check_redirect(Redirect r, const char* which, bool stdout_allowed) {
    if (r == Redirect::inherit || r == Redirect::pipe || r == Redirect::devnull) return;
    if (r == Redirect::stdout_ && stdout_allowed) return;
    throw ValueError(std::string("ValueError: SubprocessOptions::") + which + " = Redirect::" + redirect_name(r) +
                     " is not allowed (Redirect::stdout_ is for stderr_ only)");
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

/// The PATH used to look `program` up: the child's environment's if it sets one, else
/// the parent's, else the default (os.get_exec_path()).
std::string exec_path(const std::vector<std::string>* env) {
    if (env) {
        for (const std::string& kv : *env) {
            if (kv.starts_with("PATH=")) return kv.substr(5);
        }
        return "/bin:/usr/bin";
    }
    const char* p = std::getenv("PATH");
    return p ? std::string(p) : std::string("/bin:/usr/bin");
}

/// Raises the error for a spawn that failed with `err`, naming the cwd when it is the
/// cwd that cannot be entered (the child reports its chdir failure the same way).
[[noreturn]] void raise_spawn_error(int err, std::string_view program, const std::string& cwd,
                                    const std::string& path_searched) {
    if (!cwd.empty() && (err == ENOENT || err == ENOTDIR || err == EACCES)) {
        struct stat st {};
        int cwd_err = 0;
        if (::stat(cwd.c_str(), &st) != 0) {
            cwd_err = errno;
        } else if (!S_ISDIR(st.st_mode)) {
            cwd_err = ENOTDIR;
        } else if (::access(cwd.c_str(), X_OK) != 0) {
            cwd_err = errno;
        }
        if (cwd_err != 0) raise_os_error(cwd_err, "cwd " + quoted(cwd) + " for running " + quoted(program));
    }
    std::string context = "running " + quoted(program);
    if (!path_searched.empty()) context += ", looked up on PATH=" + path_searched;
    if (err == ENOTDIR) err = ENOENT;  // a PATH entry that is a file: the program was not found
    raise_os_error(err, context);
}

/// Kills and reaps a child we could not take charge of (blocking, but it is immediate).
void kill_and_reap(pid_t pid) noexcept {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
}

Process spawn(std::string_view program, const std::vector<std::string>& args, const SubprocessOptions& o) {
    EventLoop& loop = get_running_loop();
    // ---- validate everything before creating anything ----
    check_redirect(o.stdin_, "stdin_", false);
    check_redirect(o.stdout_, "stdout_", false);
    check_redirect(o.stderr_, "stderr_", true);
    check_no_nul(program, "the program name");
    for (const std::string& a : args) check_no_nul(a, "an argument");
    check_no_nul(o.cwd, "cwd");
    if (o.env) {
        for (const std::string& kv : *o.env) {
            check_no_nul(kv, "an environment entry");
            if (kv.find('=') == std::string::npos || kv.front() == '=')
                throw ValueError("ValueError: environment entry " + quoted(kv) + " is not of the form KEY=VALUE");
        }
    }
    if (program.empty()) raise_os_error(ENOENT, "running '' (an empty program name)");
    const std::string prog(program);
    const std::string cwd(o.cwd);

    std::vector<char*> argv;
    argv.reserve(args.size() + 2);
    argv.push_back(const_cast<char*>(prog.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    char** envv = environ;
    if (o.env) {
        envp.reserve(o.env->size() + 1);
        for (const std::string& kv : *o.env) envp.push_back(const_cast<char*>(kv.c_str()));
        envp.push_back(nullptr);
        envv = envp.data();
    }

    // ---- pipes and file actions ----
    FileActions fa;
    Fd in_parent, out_parent, err_parent;  // our ends
    Fd in_child, out_child, err_child;     // the child's, closed here once it runs
    if (!cwd.empty()) fa.check(::posix_spawn_file_actions_addchdir_np(&fa.fa, cwd.c_str()), "posix_spawn chdir");
    auto setup = [&](Redirect r, int target, Fd& parent_end, Fd& child_end) {
        if (r == Redirect::pipe) {
            Pipe p = make_pipe();
            if (target == 0) {
                child_end = above_stdio(std::move(p.read_end));
                parent_end = std::move(p.write_end);
            } else {
                child_end = above_stdio(std::move(p.write_end));
                parent_end = std::move(p.read_end);
            }
            fa.check(::posix_spawn_file_actions_adddup2(&fa.fa, child_end.get(), target), "posix_spawn dup2");
        } else if (r == Redirect::devnull) {
            fa.check(::posix_spawn_file_actions_addopen(&fa.fa, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0),
                     "posix_spawn open /dev/null");
        } else if (r == Redirect::stdout_) {
            fa.check(::posix_spawn_file_actions_adddup2(&fa.fa, 1, 2), "posix_spawn dup2");
        }
    };
    setup(o.stdin_, 0, in_parent, in_child);
    setup(o.stdout_, 1, out_parent, out_child);
    setup(o.stderr_, 2, err_parent, err_child);
    // Popen's close_fds: descriptors the program opened without O_CLOEXEC stay behind too.
    fa.check(::posix_spawn_file_actions_addclosefrom_np(&fa.fa, 3), "posix_spawn closefrom");

    // Popen's restore_signals, plus an empty signal mask: the loop thread's mask is no
    // business of the child's.
    SpawnAttr attr;
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGXFSZ);
    if (int e = ::posix_spawnattr_setsigmask(&attr.attr, &none)) raise_os_error(e, "posix_spawnattr_setsigmask");
    if (int e = ::posix_spawnattr_setsigdefault(&attr.attr, &defaults)) raise_os_error(e, "posix_spawnattr_setsigdefault");
    if (int e = ::posix_spawnattr_setflags(&attr.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        raise_os_error(e, "posix_spawnattr_setflags");

    // ---- spawn (glibc reports the child's exec or chdir failure as the result) ----
    pid_t pid = -1;
    if (prog.find('/') != std::string::npos) {
        if (int e = ::posix_spawn(&pid, prog.c_str(), &fa.fa, &attr.attr, argv.data(), envv))
            raise_spawn_error(e, program, cwd, {});
    } else {
        // execvp's search: skip what is not there, remember a permission error, stop at
        // any other error.
        const std::string path = exec_path(o.env);
        int last = ENOENT;
        bool denied = false, started = false;
        std::size_t pos = 0;
        while (!started) {
            const std::size_t colon = path.find(':', pos);
            const std::string dir = path.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
            const std::string candidate = dir.empty() ? prog : dir + "/" + prog;
            // An absolute candidate that does not exist needs no spawn attempt. (A relative
            // one is resolved in the child's cwd, so only the child can tell.)
            const bool absent = candidate.front() == '/' && ::access(candidate.c_str(), F_OK) != 0 &&
                                (errno == ENOENT || errno == ENOTDIR);
            if (!absent) {
                int e = ::posix_spawn(&pid, candidate.c_str(), &fa.fa, &attr.attr, argv.data(), envv);
                if (e == 0) {
                    started = true;
                } else if (e == EACCES) {
                    denied = true;
                } else if (e != ENOENT && e != ENOTDIR) {
                    last = e;
                    break;
                }
            }
            if (colon == std::string::npos) break;
            pos = colon + 1;
        }
        if (!started) raise_spawn_error(last != ENOENT ? last : denied ? EACCES : ENOENT, program, cwd, path);
    }
    in_child = Fd();
    out_child = Fd();
    err_child = Fd();

    // ---- take charge of the child ----
    auto child = std::make_shared<ChildState>();
    child->pid = pid;
    try {
        child->program = prog;
        loop.service<ChildWatcher>().watch(loop, child);
    } catch (...) {
        kill_and_reap(pid);
        throw;
    }
    try {
        StreamWriter in;
        StreamReader out, err;
        if (in_parent) in = connect_write_pipe(in_parent.release());
        if (out_parent) out = connect_read_pipe(out_parent.release(), o.limit);
        if (err_parent) err = connect_read_pipe(err_parent.release(), o.limit);
        return Process(std::move(child), std::move(in), std::move(out), std::move(err));
    } catch (...) {
        ::kill(pid, SIGKILL);  // watched: the loop reaps it
        throw;
    }
}

}  // namespace

void force_threaded_child_watcher(bool on) noexcept { g_force_threads.store(on, std::memory_order_relaxed); }

}  // namespace detail

// ---- Process ----

Process::Process(std::shared_ptr<detail::ChildState> child, StreamWriter in, StreamReader out, StreamReader err) noexcept
    : child_(std::move(child)), stdin_pipe_(std::move(in)), stdout_pipe_(std::move(out)), stderr_pipe_(std::move(err)) {}

Process::~Process() = default;

detail::ChildState& Process::child(const char* what) const {
    if (!child_) throw InvalidStateError(std::string("InvalidStateError: ") + what + " on a moved-from Process");
    return *child_;
}

int Process::pid() const { return child("Process.pid()").pid; }

std::optional<int> Process::returncode() const { return child("Process.returncode()").returncode; }

namespace {
[[noreturn]] void not_a_pipe(const char* stream) {
    throw InvalidStateError(std::string("InvalidStateError: the child's ") + stream + " is not a pipe (set SubprocessOptions::" +
                            stream + "_ = aio::Redirect::pipe)");
}
}  // namespace

StreamWriter& Process::stdin_() {
    (void)child("Process.stdin_()");
    if (!stdin_pipe_) not_a_pipe("stdin");
    return stdin_pipe_;
}

StreamReader& Process::stdout_() {
    (void)child("Process.stdout_()");
    if (!stdout_pipe_) not_a_pipe("stdout");
    return stdout_pipe_;
}

StreamReader& Process::stderr_() {
    (void)child("Process.stderr_()");
    if (!stderr_pipe_) not_a_pipe("stderr");
    return stderr_pipe_;
}

namespace {
/// Waiting can only end through the loop that watches the child.
void check_waitable(const detail::ChildState& c, const char* what) {
    if (c.returncode) return;
    if (c.dropped)
        throw RuntimeError(std::string("RuntimeError: ") + what + ": the event loop that started process " +
                           std::to_string(c.pid) + " is closed, so nothing reaps it any more");
    if (&get_running_loop() != c.loop)
        throw RuntimeError(std::string("RuntimeError: ") + what + " called on an event loop other than the one that started process " +
                           std::to_string(c.pid));
}
}  // namespace

Coro<int> Process::wait() {
    // The frame keeps the state alive: the Process may be moved or destroyed meanwhile.
    std::shared_ptr<detail::ChildState> state = child_;
    check_waitable(child("Process.wait()"), "Process.wait()");
    if (!state->returncode) co_await state->exited.wait();
    co_return *state->returncode;
}

namespace {
Coro<> feed_stdin(StreamWriter* in, std::string_view input) {
    if (!*in) co_return;
    bool lost = false;
    try {
        if (!input.empty()) {
            in->write(input);
            co_await in->drain();
        }
    } catch (const BrokenPipeError&) {
        lost = true;  // the child closed its stdin: as asyncio, not an error
    } catch (const ConnectionResetError&) {
        lost = true;
    }
    in->close();
    if (lost) co_return;
    try {
        co_await in->wait_closed();
    } catch (const BrokenPipeError&) {
    } catch (const ConnectionResetError&) {
    }
}

Coro<> read_to_eof(StreamReader* r, std::string* out) {
    if (!*r) co_return;
    *out = co_await r->read();
}
}  // namespace

Coro<std::pair<std::string, std::string>> Process::communicate(std::string_view input) {
    std::shared_ptr<detail::ChildState> state = child_;
    check_waitable(child("Process.communicate()"), "Process.communicate()");
    if (!input.empty() && !stdin_pipe_)
        throw ValueError("ValueError: communicate() was given input but the child's stdin is not a pipe "
                         "(set SubprocessOptions::stdin_ = aio::Redirect::pipe)");
    std::string out, err;
    // Outcomes, so no child task is left running when another one fails.
    auto results = co_await gather(return_exceptions, feed_stdin(&stdin_pipe_, input), read_to_eof(&stdout_pipe_, &out),
                                   read_to_eof(&stderr_pipe_, &err));
    if (auto e = std::get<0>(results).exception()) std::rethrow_exception(e);
    if (auto e = std::get<1>(results).exception()) std::rethrow_exception(e);
    if (auto e = std::get<2>(results).exception()) std::rethrow_exception(e);
    if (!state->returncode) co_await state->exited.wait();
    co_return std::pair<std::string, std::string>(std::move(out), std::move(err));
}

void Process::send_signal(int sig) {
    detail::ChildState& c = child("Process.send_signal()");
    if (c.returncode)
        throw ProcessLookupError(ESRCH, "process " + std::to_string(c.pid) + " ('" + c.program +
                                            "') has already exited with returncode " + std::to_string(*c.returncode));
    // Safe: a pid is only freed when the loop reaps it, which also sets returncode.
    if (::kill(c.pid, sig) < 0)
        raise_os_error(errno, "sending signal " + std::to_string(sig) + " to process " + std::to_string(c.pid));
}

void Process::terminate() { send_signal(SIGTERM); }

void Process::kill() { send_signal(SIGKILL); }

// ---- creation ----

namespace {
/// Yields once after the spawn (asyncio's creation suspends too), so a task starting many
/// children lets the loop run between them. Cancelled there, the child is killed and left
/// to the loop to reap, as asyncio's creation does.
Coro<Process> settle(Process proc) {
    try {
        co_await aio::sleep(std::chrono::seconds(0));
    } catch (...) {
        if (!proc.returncode()) ::kill(proc.pid(), SIGKILL);
        throw;
    }
    co_return proc;
}
}  // namespace

Coro<Process> create_subprocess_exec(std::string_view program, std::vector<std::string> args, SubprocessOptions options) {
    Process proc = detail::spawn(program, args, options);
    co_return co_await settle(std::move(proc));
}

Coro<Process> create_subprocess_shell(std::string_view cmd, SubprocessOptions options) {
    detail::check_no_nul(cmd, "the shell command");
    std::vector<std::string> args{"-c", std::string(cmd)};
    Process proc = detail::spawn("/bin/sh", args, options);
    co_return co_await settle(std::move(proc));
}

}  // namespace aio
