#include "aio/net/subprocess.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

aio::SubprocessOptions piped(bool in, bool out, bool err) {
    aio::SubprocessOptions o;
    if (in) o.stdin_ = aio::Redirect::pipe;
    if (out) o.stdout_ = aio::Redirect::pipe;
    if (err) o.stderr_ = aio::Redirect::pipe;
    return o;
}

/// create_subprocess_exec with the arguments listed (g++ 12 cannot compile a braced list
/// of strings inside a co_await expression, so the tests build the vector here).
template <class... A>
aio::Coro<aio::Process> exec(std::string_view program, A... args) {
    return aio::create_subprocess_exec(program, std::vector<std::string>{std::string(args)...});
}
template <class... A>
aio::Coro<aio::Process> exec_with(const aio::SubprocessOptions& o, std::string_view program, A... args) {
    return aio::create_subprocess_exec(program, std::vector<std::string>{std::string(args)...}, o);
}

std::string temp_dir() {
    char tmpl[] = "/tmp/aiocpp-subprocess-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    return d ? std::string(d) : std::string();
}

/// Waits (really) until `pid` is gone from the process table, i.e. it was reaped.
aio::Coro<bool> reaped_within(pid_t pid, std::chrono::milliseconds limit) {
    for (auto waited = 0ms; waited < limit; waited += 10ms) {
        if (::kill(pid, 0) < 0 && errno == ESRCH) co_return true;
        co_await aio::sleep(10ms);
    }
    co_return false;
}

/// Runs the body with children watched by threads instead of pidfds.
struct ThreadedWatcher {
    ThreadedWatcher() { aio::detail::force_threaded_child_watcher(true); }
    ~ThreadedWatcher() { aio::detail::force_threaded_child_watcher(false); }
};

}  // namespace

// ---- exit status ----

AIO_REAL_TEST(Subprocess, ExitCodes) {
    aio::Process t = co_await aio::create_subprocess_exec("true");
    EXPECT_GT(t.pid(), 0);
    EXPECT_EQ(t.returncode(), std::nullopt);  // nothing has run the loop yet
    EXPECT_EQ(co_await t.wait(), 0);
    EXPECT_EQ(t.returncode(), 0);
    EXPECT_EQ(co_await t.wait(), 0);  // again: at once

    aio::Process f = co_await aio::create_subprocess_exec("false");
    EXPECT_EQ(co_await f.wait(), 1);
    std::vector<std::string> args{"-c", "exit 42"};
    aio::Process s = co_await aio::create_subprocess_exec("/bin/sh", args);
    EXPECT_EQ(co_await s.wait(), 42);
}

AIO_REAL_TEST(Subprocess, ShellRunsBinShDashC) {
    aio::Process p = co_await aio::create_subprocess_shell("echo \"$0\" && exit 3", piped(false, true, false));
    std::string line = co_await p.stdout_().readline();
    EXPECT_EQ(line, "/bin/sh\n");
    EXPECT_EQ(co_await p.wait(), 3);
}

AIO_REAL_TEST(Subprocess, KillGivesMinusSignalNumber) {
    aio::Process p = co_await exec("sleep", "10");
    p.kill();
    EXPECT_EQ(co_await p.wait(), -SIGKILL);
    EXPECT_EQ(p.returncode(), -9);
}

AIO_REAL_TEST(Subprocess, Terminate) {
    aio::Process p = co_await exec("sleep", "10");
    p.terminate();
    EXPECT_EQ(co_await p.wait(), -SIGTERM);
}

AIO_REAL_TEST(Subprocess, SendSignal) {
    aio::Process p = co_await exec("sleep", "10");
    p.send_signal(SIGINT);
    EXPECT_EQ(co_await p.wait(), -SIGINT);
}

AIO_REAL_TEST(Subprocess, SignalAfterExitRaisesProcessLookupError) {
    aio::Process p = co_await aio::create_subprocess_exec("true");
    EXPECT_EQ(co_await p.wait(), 0);
    int raised = 0;
    try {
        p.send_signal(SIGTERM);
    } catch (const aio::ProcessLookupError& e) {
        ++raised;
        EXPECT_EQ(e.code(), ESRCH);
        EXPECT_NE(std::string(e.what()).find(std::to_string(p.pid())), std::string::npos) << e.what();
    }
    try {
        p.kill();
    } catch (const aio::ProcessLookupError&) {
        ++raised;
    }
    try {
        p.terminate();
    } catch (const aio::OSError&) {  // a subclass of OSError, as in Python
        ++raised;
    }
    EXPECT_EQ(raised, 3);
}

// ---- pipes ----

AIO_REAL_TEST(Subprocess, StdoutLineByLine) {
    aio::Process p = co_await aio::create_subprocess_shell("echo one; echo two; echo three", piped(false, true, false));
    EXPECT_EQ(co_await p.stdout_().readline(), "one\n");
    EXPECT_EQ(co_await p.stdout_().readline(), "two\n");
    EXPECT_EQ(co_await p.stdout_().readline(), "three\n");
    EXPECT_EQ(co_await p.stdout_().readline(), "");
    EXPECT_TRUE(p.stdout_().at_eof());
    EXPECT_EQ(co_await p.wait(), 0);
}

AIO_REAL_TEST(Subprocess, LimitAppliesToThePipeReaders) {
    aio::SubprocessOptions o = piped(false, true, false);
    o.limit = 16;
    aio::Process p = co_await aio::create_subprocess_shell("echo 0123456789012345678901234567890; echo short", o);
    bool too_long = false;
    try {
        (void)co_await p.stdout_().readline();
    } catch (const aio::ValueError&) {
        too_long = true;
    }
    EXPECT_TRUE(too_long);
    EXPECT_EQ(co_await p.stdout_().readline(), "short\n");
    EXPECT_EQ(co_await p.wait(), 0);
}

AIO_REAL_TEST(Subprocess, StdinThroughCatRoundTrip) {
    // Designated options inside the co_await: safe with g++ 12 (trivially destructible).
    aio::Process p = co_await aio::create_subprocess_exec(
        "cat", {}, {.stdin_ = aio::Redirect::pipe, .stdout_ = aio::Redirect::pipe});
    p.stdin_().write("hello\n");
    co_await p.stdin_().drain();
    EXPECT_EQ(co_await p.stdout_().readline(), "hello\n");
    p.stdin_().write("world\n");
    co_await p.stdin_().drain();
    EXPECT_EQ(co_await p.stdout_().readline(), "world\n");
    p.stdin_().write_eof();  // cat sees end of input and exits
    EXPECT_EQ(co_await p.stdout_().read(), "");
    EXPECT_EQ(co_await p.wait(), 0);
}

AIO_REAL_TEST(Subprocess, CommunicateFiveMegabytesThroughCat) {
    // Far more than a pipe holds in either direction: it only finishes if writing stdin
    // and reading stdout happen at once.
    // 80 copies of a block of numbered records whose size (a prime) is no multiple of any
    // pipe or buffer size, so a lost, doubled or shifted chunk shows. (Cheap to build:
    // this runs inside one loop step, which debug mode reports past 100 ms.)
    std::string block;
    for (int i = 0; block.size() < 65521; ++i) block += std::to_string(i) + ",";
    block.resize(65521);
    std::string input;
    input.reserve(80 * block.size());
    for (int i = 0; i < 80; ++i) input += block;
    aio::Process p = co_await aio::create_subprocess_exec("cat", {}, piped(true, true, true));
    auto [out, err] = co_await p.communicate(input);
    EXPECT_EQ(out.size(), input.size());
    EXPECT_TRUE(out == input);
    EXPECT_EQ(err, "");
    EXPECT_EQ(p.returncode(), 0);
}

AIO_REAL_TEST(Subprocess, CommunicateLargeStderrAndStdoutAtOnce) {
    // 1 MB on each output: reading one to the end before the other would deadlock.
    aio::Process p = co_await aio::create_subprocess_shell(
        "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2; head -c 1048576 /dev/zero", piped(false, true, true));
    auto [out, err] = co_await p.communicate();
    EXPECT_EQ(out.size(), 2u << 20);
    EXPECT_EQ(err.size(), 1u << 20);
    EXPECT_EQ(p.returncode(), 0);
}

AIO_REAL_TEST(Subprocess, CommunicateIgnoresAChildThatStopsReading) {
    aio::Process p = co_await exec_with(piped(true, true, false), "head", "-c", "5");
    std::string input(4 << 20, 'x');
    auto [out, err] = co_await p.communicate(input);
    EXPECT_EQ(out, "xxxxx");
    EXPECT_EQ(p.returncode(), 0);
}

AIO_REAL_TEST(Subprocess, CommunicateWithoutPipes) {
    aio::Process p = co_await aio::create_subprocess_exec("true");
    auto [out, err] = co_await p.communicate();
    EXPECT_EQ(out, "");
    EXPECT_EQ(err, "");
    EXPECT_EQ(p.returncode(), 0);
    aio::Process q = co_await aio::create_subprocess_exec("true");
    bool raised = false;
    try {
        (void)co_await q.communicate("data nobody could read");
    } catch (const aio::ValueError& e) {
        raised = true;
        EXPECT_NE(std::string(e.what()).find("stdin"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(co_await q.wait(), 0);
}

AIO_REAL_TEST(Subprocess, StderrSeparateFromStdout) {
    aio::Process p = co_await aio::create_subprocess_shell("echo out; echo err >&2; exit 5", piped(false, true, true));
    auto [out, err] = co_await p.communicate();
    EXPECT_EQ(out, "out\n");
    EXPECT_EQ(err, "err\n");
    EXPECT_EQ(p.returncode(), 5);
}

AIO_REAL_TEST(Subprocess, StderrMergedIntoStdout) {
    aio::SubprocessOptions o = piped(false, true, false);
    o.stderr_ = aio::Redirect::stdout_;
    aio::Process p = co_await aio::create_subprocess_shell("echo out; echo err >&2; echo out2", o);
    auto [out, err] = co_await p.communicate();
    EXPECT_EQ(out, "out\nerr\nout2\n");
    EXPECT_EQ(err, "");
    bool raised = false;
    try {
        (void)p.stderr_();
    } catch (const aio::InvalidStateError& e) {
        raised = true;
        EXPECT_NE(std::string(e.what()).find("stderr"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(raised);
}

AIO_REAL_TEST(Subprocess, Devnull) {
    aio::SubprocessOptions o = piped(false, false, true);
    o.stdout_ = aio::Redirect::devnull;
    aio::Process p = co_await aio::create_subprocess_shell("echo hidden; echo shown >&2", o);
    auto [out, err] = co_await p.communicate();
    EXPECT_EQ(out, "");
    EXPECT_EQ(err, "shown\n");

    // stdin from /dev/null: cat sees end of input at once.
    aio::SubprocessOptions in_null = piped(false, true, false);
    in_null.stdin_ = aio::Redirect::devnull;
    aio::Process c = co_await aio::create_subprocess_exec("cat", {}, in_null);
    auto [cat_out, cat_err] = co_await c.communicate();
    EXPECT_EQ(cat_out, "");
    EXPECT_EQ(c.returncode(), 0);
}

AIO_REAL_TEST(Subprocess, YesDiesOfSigpipeWhenItsReaderGoes) {
    // The parent ignores SIGPIPE (pipe streams need that); the child must not inherit it,
    // or `yes` would get EPIPE instead of dying as it does in a shell pipeline. (Ignore it
    // here too, as the first pipe stream would, in case this test runs first.)
    ::signal(SIGPIPE, SIG_IGN);
    aio::Process p = co_await aio::create_subprocess_exec("yes", {}, piped(false, true, false));
    std::string some = co_await p.stdout_().readexactly(10);
    EXPECT_EQ(some, "y\ny\ny\ny\ny\n");
    { aio::StreamReader gone = std::move(p.stdout_()); }
    int rc = co_await aio::wait_for(p.wait(), 10s);
    EXPECT_EQ(rc, -SIGPIPE);
}

// ---- options ----

AIO_REAL_TEST(Subprocess, Cwd) {
    const std::string dir = temp_dir();
    CO_ASSERT_FALSE(dir.empty());
    aio::SubprocessOptions o = piped(false, true, false);
    o.cwd = dir;
    aio::Process p = co_await exec_with(o, "pwd", "-P");
    auto [out, err] = co_await p.communicate();
    char real[PATH_MAX];
    CO_ASSERT_TRUE(::realpath(dir.c_str(), real) != nullptr);
    EXPECT_EQ(out, std::string(real) + "\n");
    EXPECT_EQ(p.returncode(), 0);

    // A relative program path is resolved in the cwd, as with Popen.
    const std::string script = dir + "/hello.sh";
    {
        int fd = ::open(script.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
        CO_ASSERT_TRUE(fd >= 0);
        const char text[] = "#!/bin/sh\necho hello from script\n";
        EXPECT_EQ(::write(fd, text, sizeof text - 1), static_cast<ssize_t>(sizeof text - 1));
        ::close(fd);
    }
    aio::Process s = co_await aio::create_subprocess_exec("./hello.sh", {}, o);
    auto [s_out, s_err] = co_await s.communicate();
    EXPECT_EQ(s_out, "hello from script\n");

    // A cwd that does not exist is named in the error.
    o.cwd = "/nonexistent-aiocpp-dir";
    std::string error;
    try {
        (void)co_await aio::create_subprocess_exec("true", {}, o);
    } catch (const aio::FileNotFoundError& e) {
        error = e.what();
    }
    EXPECT_NE(error.find("/nonexistent-aiocpp-dir"), std::string::npos) << error;
    ::unlink(script.c_str());
    ::rmdir(dir.c_str());
}

AIO_REAL_TEST(Subprocess, Env) {
    const std::vector<std::string> env{"FOO=bar baz", "EMPTY=", "PATH=/usr/bin:/bin"};
    aio::SubprocessOptions o = piped(false, true, false);
    o.env = &env;
    aio::Process p = co_await aio::create_subprocess_shell("echo \"$FOO|$EMPTY|${HOME-unset}\"", o);
    auto [out, err] = co_await p.communicate();
    EXPECT_EQ(out, "bar baz||unset\n");

    // The program is looked up on the child's PATH when env sets one.
    const std::vector<std::string> no_path{"PATH=/nonexistent-aiocpp-bin"};
    aio::SubprocessOptions q;
    q.env = &no_path;
    std::string error;
    try {
        (void)co_await aio::create_subprocess_exec("true", {}, q);
    } catch (const aio::FileNotFoundError& e) {
        error = e.what();
    }
    EXPECT_NE(error.find("/nonexistent-aiocpp-bin"), std::string::npos) << error;
}

AIO_REAL_TEST(Subprocess, MissingProgramRaisesFileNotFoundError) {
    std::string error;
    int code = 0;
    try {
        (void)co_await exec("aiocpp-no-such-program", "x");
    } catch (const aio::FileNotFoundError& e) {
        error = e.what();
        code = e.code();
    }
    EXPECT_EQ(code, ENOENT);
    EXPECT_NE(error.find("FileNotFoundError"), std::string::npos) << error;
    EXPECT_NE(error.find("aiocpp-no-such-program"), std::string::npos) << error;

    error.clear();
    try {
        (void)co_await aio::create_subprocess_exec("/nonexistent/aiocpp-prog");
    } catch (const aio::FileNotFoundError& e) {
        error = e.what();
    }
    EXPECT_NE(error.find("/nonexistent/aiocpp-prog"), std::string::npos) << error;

    error.clear();
    try {
        (void)co_await aio::create_subprocess_exec("");
    } catch (const aio::FileNotFoundError& e) {
        error = e.what();
    }
    EXPECT_FALSE(error.empty());
}

AIO_REAL_TEST(Subprocess, NotExecutableRaisesPermissionError) {
    const std::string dir = temp_dir();
    CO_ASSERT_FALSE(dir.empty());
    const std::string file = dir + "/not-executable";
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    CO_ASSERT_TRUE(fd >= 0);
    ::close(fd);
    std::string error;
    try {
        (void)co_await aio::create_subprocess_exec(file);
    } catch (const aio::PermissionError& e) {
        error = e.what();
        EXPECT_EQ(e.code(), EACCES);
    }
    EXPECT_NE(error.find(file), std::string::npos) << error;
    ::unlink(file.c_str());
    ::rmdir(dir.c_str());
}

AIO_REAL_TEST(Subprocess, BadOptionsRaiseValueError) {
    int raised = 0;
    aio::SubprocessOptions o;
    o.stdout_ = aio::Redirect::stdout_;
    try {
        (void)co_await aio::create_subprocess_exec("true", {}, o);
    } catch (const aio::ValueError& e) {
        ++raised;
        EXPECT_NE(std::string(e.what()).find("stdout_"), std::string::npos) << e.what();
    }
    try {
        (void)co_await aio::create_subprocess_exec(std::string("tr\0ue", 5));
    } catch (const aio::ValueError&) {
        ++raised;
    }
    const std::vector<std::string> bad_env{"NOEQUALS"};
    aio::SubprocessOptions e;
    e.env = &bad_env;
    try {
        (void)co_await aio::create_subprocess_exec("true", {}, e);
    } catch (const aio::ValueError& err) {
        ++raised;
        EXPECT_NE(std::string(err.what()).find("NOEQUALS"), std::string::npos) << err.what();
    }
    EXPECT_EQ(raised, 3);
}

AIO_REAL_TEST(Subprocess, StreamsThatAreNotPipesRaiseInvalidStateError) {
    aio::Process p = co_await aio::create_subprocess_exec("true");
    int raised = 0;
    try {
        (void)p.stdin_();
    } catch (const aio::InvalidStateError&) {
        ++raised;
    }
    try {
        (void)p.stdout_();
    } catch (const aio::InvalidStateError&) {
        ++raised;
    }
    EXPECT_EQ(raised, 2);
    aio::Process moved = std::move(p);
    try {
        (void)p.pid();  // NOLINT(bugprone-use-after-move): the moved-from state is under test
    } catch (const aio::InvalidStateError&) {
        ++raised;
    }
    EXPECT_EQ(raised, 3);
    EXPECT_EQ(co_await moved.wait(), 0);
}

// ---- waiting ----

AIO_REAL_TEST(Subprocess, CancelledWaitLeavesTheChildRunning) {
    aio::Process p = co_await exec("sleep", "10");
    bool timed_out = false;
    try {
        (void)co_await aio::wait_for(p.wait(), 50ms);
    } catch (const aio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    auto t = aio::create_task(p.wait());
    co_await aio::sleep(10ms);
    t.cancel();
    bool cancelled = false;
    try {
        (void)co_await t;
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(p.returncode(), std::nullopt);
    EXPECT_EQ(::kill(p.pid(), 0), 0);  // still there
    p.kill();
    EXPECT_EQ(co_await p.wait(), -SIGKILL);
}

AIO_REAL_TEST(Subprocess, SeveralTasksWaitAtOnce) {
    aio::Process p = co_await exec("sleep", "0.1");
    auto [a, b, c] = co_await aio::gather(p.wait(), p.wait(), p.wait());
    EXPECT_EQ(a, 0);
    EXPECT_EQ(b, 0);
    EXPECT_EQ(c, 0);
}

AIO_REAL_TEST(Subprocess, FiftyChildrenAllReaped) {
    std::vector<aio::Process> procs;
    for (int i = 0; i < 50; ++i) {
        std::vector<std::string> args{"-c", "exit " + std::to_string(i % 7)};
        procs.push_back(co_await aio::create_subprocess_exec("/bin/sh", args));
    }
    std::vector<aio::Coro<int>> waits;
    for (auto& p : procs) waits.push_back(p.wait());
    std::vector<int> codes = co_await aio::gather(std::move(waits));
    for (int i = 0; i < 50; ++i) EXPECT_EQ(codes[static_cast<std::size_t>(i)], i % 7);
    for (auto& p : procs) {
        errno = 0;
        EXPECT_EQ(::waitpid(p.pid(), nullptr, WNOHANG), -1);  // reaped already
        EXPECT_EQ(errno, ECHILD);
    }
}

AIO_REAL_TEST(Subprocess, DroppedProcessIsStillReaped) {
    pid_t pid = -1;
    {
        aio::Process p = co_await exec_with(piped(true, true, true), "sleep", "0.05");
        pid = p.pid();
    }
    EXPECT_TRUE(co_await reaped_within(pid, 10s)) << "an orphaned child was left a zombie";
}

AIO_REAL_TEST(Subprocess, SomeoneElsesSigchldHandlerKeepsWorking) {
    static std::atomic<int> sigchld_count{0};
    sigchld_count = 0;
    struct sigaction sa {}, old {};
    sa.sa_handler = [](int) { sigchld_count.fetch_add(1); };
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    CO_ASSERT_EQ(::sigaction(SIGCHLD, &sa, &old), 0);
    aio::Process p = co_await exec("sh", "-c", "exit 4");
    int rc = co_await aio::wait_for(p.wait(), 10s);
    EXPECT_EQ(rc, 4);
    EXPECT_GE(sigchld_count.load(), 1);
    // Nothing of ours replaced it.
    struct sigaction now {};
    ::sigaction(SIGCHLD, nullptr, &now);
    EXPECT_EQ(now.sa_handler, sa.sa_handler);
    ::sigaction(SIGCHLD, &old, nullptr);
}

AIO_REAL_TEST(Subprocess, ChildReapedBySomeoneElseIsReported) {
    aio::Process p = co_await aio::create_subprocess_exec("true");
    int status = 0;
    CO_ASSERT_EQ(::waitpid(p.pid(), &status, 0), p.pid());  // stolen from under the loop
    EXPECT_EQ(co_await aio::wait_for(p.wait(), 10s), 255);  // unknown, as asyncio says
    auto reports = loop.take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].message.find("reaped by someone else"), std::string::npos) << reports[0].message;
}

AIO_REAL_TEST(Subprocess, CancelledCreationKillsTheChild) {
    const std::string dir = temp_dir();
    CO_ASSERT_FALSE(dir.empty());
    const std::string marker = dir + "/ran";
    std::vector<std::string> args{"-c", "sleep 0.3 && touch " + marker};
    auto t = aio::create_task(aio::create_subprocess_exec("/bin/sh", args));
    co_await aio::sleep(0ms);  // t spawns the child and yields once
    t.cancel();
    bool cancelled = false;
    try {
        (void)co_await std::move(t);
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    co_await aio::sleep(700ms);
    EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "the child was not killed";
    ::unlink(marker.c_str());
    ::rmdir(dir.c_str());
}

// ---- descriptors ----

AIO_REAL_TEST(Subprocess, ChildGetsOnlyStdio) {
    // A descriptor opened without O_CLOEXEC must not reach the child either (close_fds).
    const int leaky = ::fcntl(2, F_DUPFD, 20);
    CO_ASSERT_TRUE(leaky >= 20);
    aio::Process p = co_await aio::create_subprocess_exec("cat", {}, piped(true, true, true));
    ::close(leaky);
    // Once a line has come back, cat sits in its read loop holding only what it inherited.
    p.stdin_().write("ping\n");
    EXPECT_EQ(co_await p.stdout_().readline(), "ping\n");
    std::vector<std::string> fds;
    const std::string dir = "/proc/" + std::to_string(p.pid()) + "/fd";
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* e = ::readdir(d)) {
            if (e->d_name[0] != '.') fds.emplace_back(e->d_name);
        }
        ::closedir(d);
    }
    std::sort(fds.begin(), fds.end());
    EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2"}));
    auto [out, err] = co_await p.communicate();
    EXPECT_EQ(p.returncode(), 0);
}

// ---- the fallback for kernels without pidfd_open ----

AIO_REAL_TEST(Subprocess, ThreadedWatcherFallback) {
    ThreadedWatcher threaded;
    aio::Process f = co_await aio::create_subprocess_exec("false");
    EXPECT_EQ(co_await aio::wait_for(f.wait(), 10s), 1);
    aio::Process s = co_await exec("sleep", "10");
    s.kill();
    EXPECT_EQ(co_await aio::wait_for(s.wait(), 10s), -SIGKILL);
    std::vector<aio::Process> procs;
    for (int i = 0; i < 20; ++i) procs.push_back(co_await aio::create_subprocess_exec("true"));
    std::vector<aio::Coro<int>> waits;
    for (auto& p : procs) waits.push_back(p.wait());
    std::vector<int> codes = co_await aio::wait_for(aio::gather(std::move(waits)), 10s);
    for (int c : codes) EXPECT_EQ(c, 0);
    aio::Process c = co_await aio::create_subprocess_exec("cat", {}, piped(true, true, false));
    auto [out, err] = co_await c.communicate("through cat\n");
    EXPECT_EQ(out, "through cat\n");
    pid_t orphan = -1;
    {
        aio::Process o = co_await aio::create_subprocess_exec("true");
        orphan = o.pid();
    }
    EXPECT_TRUE(co_await reaped_within(orphan, 10s));
}

// ---- loop close ----

TEST(Subprocess, LoopCloseLeavesChildrenRunning) {
    std::optional<aio::Process> kept;
    {
        aio::test::TestLoop loop(false);
        loop.run_test([&]() -> aio::Coro<> { kept.emplace(co_await exec("sleep", "30")); }());
    }  // the watch is dropped; the fixture checked that no descriptor leaked
    ASSERT_TRUE(kept.has_value());
    const pid_t pid = kept->pid();
    EXPECT_EQ(::kill(pid, 0), 0);                     // not killed
    EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), 0);  // not reaped, still our child
    EXPECT_EQ(kept->returncode(), std::nullopt);
    {
        // Another loop cannot wait for it: nothing would ever wake it.
        aio::test::TestLoop other(false);
        other.run_test([&]() -> aio::Coro<> {
            std::string error;
            try {
                (void)co_await kept->wait();
            } catch (const aio::RuntimeError& e) {
                error = e.what();
            }
            EXPECT_NE(error.find("is closed"), std::string::npos) << error;
        }());
    }
    kept->kill();  // signalling still works: the pid is still ours
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status));
}

TEST(Subprocess, WaitOnAnotherLoopRaises) {
    aio::test::TestLoop first(false);
    std::optional<aio::Process> proc;
    first.loop().run_until_complete([&]() -> aio::Coro<> { proc.emplace(co_await exec("sleep", "30")); }());
    std::string error;
    {
        aio::test::TestLoop second(false);
        second.run_test([&]() -> aio::Coro<> {
            try {
                (void)co_await proc->wait();
            } catch (const aio::RuntimeError& e) {
                error = e.what();
            }
        }());
    }
    EXPECT_NE(error.find("other than the one"), std::string::npos) << error;
    proc->kill();
    first.run_test([&]() -> aio::Coro<> { EXPECT_EQ(co_await proc->wait(), -SIGKILL); }());
}
