// aiocpp against CPython's asyncio: streams both ways and UDP both ways, with Debian's
// /usr/bin/python3 running the scripts in tests/integration/python/ as child processes.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "test_loop.hpp"

extern char** environ;

using namespace std::chrono_literals;

namespace {

constexpr auto kLong = 30s;  // generous: a loaded machine must not make these flaky

const char* const kPython = AIOCPP_PYTHON3;

std::string script(const char* name) { return std::string(AIOCPP_INTEROP_SCRIPTS) + "/" + name; }

bool python_available() { return ::access(kPython, X_OK) == 0; }

/// A child process started with posix_spawn: stdin from /dev/null, stdout to a pipe (for
/// connect_read_pipe), stderr to an unlinked temporary file (shown when a check fails).
/// Destroying it kills and reaps a child that is still running.
class Child {
public:
    explicit Child(const std::vector<std::string>& args) {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        char err_path[] = "/tmp/aiocpp-interop-stderr-XXXXXX";
        err_fd_ = ::mkostemp(err_path, O_CLOEXEC);
        if (err_fd_ < 0) throw std::runtime_error("mkostemp failed");
        ::unlink(err_path);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_adddup2(&actions, err_fd_, 2);
        std::vector<char*> argv;
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        if (rc != 0) {
            ::close(out[0]);
            ::close(err_fd_);
            throw std::runtime_error("posix_spawn " + args[0] + ": " + std::strerror(rc));
        }
        stdout_fd_ = out[0];
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (stdout_fd_ >= 0) ::close(stdout_fd_);
        if (err_fd_ >= 0) ::close(err_fd_);
    }

    /// The child's stdout as a StreamReader (which then owns the pipe).
    aio::StreamReader stdout_reader() { return aio::connect_read_pipe(std::exchange(stdout_fd_, -1)); }

    /// Waits, without blocking the loop, until the child exits; returns its exit status
    /// (128 + n if killed by signal n). Past `limit` the child is killed. A pidfd watched
    /// with add_reader tells the loop when it exits.
    aio::Coro<int> wait(std::chrono::seconds limit) {
        const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
        if (pidfd >= 0) {
            aio::Event exited;
            aio::EventLoop& loop = aio::get_running_loop();
            loop.add_reader(pidfd, [&exited] { exited.set(); });
            bool timed_out = false;
            try {
                co_await aio::timeout(limit, [&]() -> aio::Coro<> { co_await exited.wait(); });
            } catch (const aio::TimeoutError&) {
                timed_out = true;
            }
            loop.remove_reader(pidfd);
            ::close(pidfd);
            if (timed_out) ::kill(pid_, SIGKILL);
        } else {
            // No pidfd (kernel before 5.3): poll.
            const auto deadline = aio::get_running_loop().time() + limit;
            for (;;) {
                siginfo_t info{};
                if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) break;
                if (info.si_pid != 0 || aio::get_running_loop().time() >= deadline) break;
                co_await aio::sleep(20ms);
            }
            ::kill(pid_, SIGKILL);  // harmless once it has exited: it is a zombie until reaped
        }
        int status = 0;
        ::waitpid(std::exchange(pid_, -1), &status, 0);
        co_return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    /// What the child wrote to stderr so far.
    std::string stderr_text() const {
        std::string text;
        char buf[4096];
        for (off_t at = 0;;) {
            const ssize_t n = ::pread(err_fd_, buf, sizeof buf, at);
            if (n <= 0) break;
            text.append(buf, static_cast<std::size_t>(n));
            at += n;
        }
        return text;
    }

private:
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    int err_fd_ = -1;
};

/// Reads the "PORT <n>" line a server script prints once it listens.
aio::Coro<std::uint16_t> read_port(aio::StreamReader& out) {
    const std::string line = co_await aio::wait_for(out.readline(), kLong);
    if (line.rfind("PORT ", 0) != 0) co_return 0;
    co_return static_cast<std::uint16_t>(std::stoi(line.substr(5)));
}

std::string payload(std::size_t n) {
    std::string p(n, '\0');
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>((i * 7 + 3) % 251);
    return p;
}

/// Our side of the line protocol (the same as stream_server.py).
aio::Coro<> serve_lines(aio::StreamReader reader, aio::StreamWriter writer) {
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;
        if (line.back() == '\n') line.pop_back();
        const std::size_t space = line.find(' ');
        const std::string command = line.substr(0, space);
        const std::string arg = space == std::string::npos ? std::string() : line.substr(space + 1);
        if (command == "PING") {
            writer.write("PONG\n");
        } else if (command == "ECHO") {
            writer.write(arg + "\n");
        } else if (command == "UPPER") {
            std::string up = arg;
            for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            writer.write(up + "\n");
        } else if (command == "BLOB") {
            const std::size_t size = std::stoul(arg);
            std::string data = co_await reader.readexactly(size);
            writer.write("SIZE " + std::to_string(size) + "\n");
            writer.write(std::string(data.rbegin(), data.rend()));
        } else if (command == "CLOSE") {
            break;
        } else {
            writer.write("ERROR unknown command\n");
        }
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

aio::Coro<> interop_our_client_python_server() {
    Child child({kPython, "-I", "-u", script("stream_server.py")});
    aio::StreamReader out = child.stdout_reader();
    const std::uint16_t port = co_await read_port(out);
    if (port == 0) {
        ADD_FAILURE() << "the script printed no port; its stderr:\n" << child.stderr_text();
        co_return;
    }

    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    writer.write("PING\n");
    writer.writelines(std::vector<std::string>{"ECHO hello from aiocpp\n", "UPPER quiet please\n"});
    co_await writer.drain();
    EXPECT_EQ(co_await aio::wait_for(reader.readline(), kLong), "PONG\n");
    EXPECT_EQ(co_await aio::wait_for(reader.readline(), kLong), "hello from aiocpp\n");
    EXPECT_EQ(co_await aio::wait_for(reader.readline(), kLong), "QUIET PLEASE\n");

    const std::string blob = payload(1 << 20);
    writer.write("BLOB " + std::to_string(blob.size()) + "\n");
    writer.write(blob);
    co_await aio::wait_for(writer.drain(), kLong);
    EXPECT_EQ(co_await aio::wait_for(reader.readline(), kLong), "SIZE 1048576\n");
    const std::string back = co_await aio::wait_for(reader.readexactly(blob.size()), kLong);
    EXPECT_TRUE(back == std::string(blob.rbegin(), blob.rend())) << "the 1 MB payload came back altered";

    // The Python side closes the connection: our reader sees end of stream.
    writer.write("CLOSE\n");
    co_await writer.drain();
    EXPECT_EQ(co_await aio::wait_for(reader.read(), kLong), "");
    EXPECT_TRUE(reader.at_eof());
    writer.close();
    co_await writer.wait_closed();

    // A second connection stops the server; its process exits cleanly.
    auto [reader2, writer2] = co_await aio::open_connection("127.0.0.1", port);
    writer2.write("EXIT\n");
    co_await writer2.drain();
    EXPECT_EQ(co_await aio::wait_for(reader2.readline(), kLong), "BYE\n");
    EXPECT_EQ(co_await aio::wait_for(reader2.read(), kLong), "");
    writer2.close();
    co_await writer2.wait_closed();
    const int status = co_await child.wait(kLong);
    EXPECT_EQ(status, 0) << child.stderr_text();
    EXPECT_EQ(co_await aio::wait_for(out.read(), kLong), "STOPPED\n");
}

aio::Coro<> interop_python_client_our_server() {
    aio::Server server = co_await aio::start_server(serve_lines, "127.0.0.1", 0);
    Child child({kPython, "-I", "-u", script("stream_client.py"), std::to_string(server.port())});
    aio::StreamReader out = child.stdout_reader();
    // The loop keeps serving while we wait: for the output to end, then for the exit.
    const std::string output = co_await aio::wait_for(out.read(), kLong);
    const int status = co_await child.wait(kLong);
    EXPECT_EQ(status, 0) << child.stderr_text();
    EXPECT_EQ(output, "PING ok\nLINES ok\nBLOB 1048576 ok\nCONCURRENT 20 ok\nEOF ok\n") << child.stderr_text();
    server.close();
    co_await server.wait_closed();
}

aio::Coro<> interop_our_datagrams_python_echo() {
    Child child({kPython, "-I", "-u", script("udp_echo_server.py")});
    aio::StreamReader out = child.stdout_reader();
    const std::uint16_t port = co_await read_port(out);
    if (port == 0) {
        ADD_FAILURE() << "the script printed no port; its stderr:\n" << child.stderr_text();
        co_return;
    }

    aio::DatagramEndpoint ep = co_await aio::open_datagram("127.0.0.1", port);
    for (int i = 0; i < 50; ++i) {
        const std::string msg = "datagram " + std::to_string(i);
        co_await ep.send(msg);
        aio::Datagram echo = co_await aio::wait_for(ep.recvfrom(), kLong);
        EXPECT_EQ(echo.data, msg);
        EXPECT_EQ(echo.sender, *ep.peername());
    }
    const std::string big = payload(60000);
    co_await ep.send(big);
    EXPECT_TRUE(co_await aio::wait_for(ep.recv(), kLong) == big) << "the 60000-byte datagram came back altered";

    // The server saw us under the address our endpoint reports.
    const std::string peer_line = co_await aio::wait_for(out.readline(), kLong);
    EXPECT_EQ(peer_line, "PEER 127.0.0.1 " + std::to_string(ep.sockname().port()) + "\n");

    co_await ep.send("EXIT");
    EXPECT_EQ(co_await aio::wait_for(ep.recv(), kLong), "BYE");
    const int status = co_await child.wait(kLong);
    EXPECT_EQ(status, 0) << child.stderr_text();

    // Its port is closed now: the connected endpoint hears ConnectionRefusedError, as a
    // Python endpoint's error_received would.
    bool refused = false;
    for (int i = 0; i < 300 && !refused; ++i) {
        try {
            co_await ep.send("anyone?");
            (void)co_await aio::wait_for(ep.recv(), 50ms);
        } catch (const aio::ConnectionRefusedError&) {
            refused = true;
        } catch (const aio::TimeoutError&) {
        }
    }
    EXPECT_TRUE(refused);
}

aio::Coro<> echo_datagrams(aio::DatagramEndpoint& ep, std::set<std::uint16_t>& senders) {
    for (;;) {
        aio::Datagram d = co_await ep.recvfrom();
        senders.insert(d.sender.port());
        co_await ep.sendto(d.data, d.sender);
    }
}

aio::Coro<> interop_python_datagrams_our_echo() {
    aio::DatagramEndpoint ep = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    std::set<std::uint16_t> senders;
    auto echoing = aio::create_task(echo_datagrams(ep, senders));
    Child child({kPython, "-I", "-u", script("udp_client.py"), std::to_string(ep.sockname().port())});
    aio::StreamReader out = child.stdout_reader();
    const std::string output = co_await aio::wait_for(out.read(), kLong);
    const int status = co_await child.wait(kLong);
    echoing.cancel();
    try {
        co_await echoing;
    } catch (const aio::CancelledError&) {
    }
    EXPECT_EQ(status, 0) << child.stderr_text();
    std::istringstream lines(output);
    std::string word, host, echo_line;
    int python_port = 0;
    lines >> word >> host >> python_port;
    EXPECT_EQ(word, "SOCKNAME") << output;
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_EQ(senders, std::set<std::uint16_t>{static_cast<std::uint16_t>(python_port)});
    lines.ignore(1);
    std::getline(lines, echo_line);
    EXPECT_EQ(echo_line, "ECHO 51 ok") << output << child.stderr_text();
}

void run_interop(aio::Coro<> (*body)()) {
    aio::test::TestLoop loop(false);
    loop.run_test(body());
}

}  // namespace

TEST(PythonInterop, OurClientAgainstAsyncioServer) {
    if (!python_available()) GTEST_SKIP() << kPython << " is not installed";
    run_interop(interop_our_client_python_server);
}

TEST(PythonInterop, AsyncioClientAgainstOurServer) {
    if (!python_available()) GTEST_SKIP() << kPython << " is not installed";
    run_interop(interop_python_client_our_server);
}

TEST(PythonInterop, OurDatagramsAgainstAsyncioEcho) {
    if (!python_available()) GTEST_SKIP() << kPython << " is not installed";
    run_interop(interop_our_datagrams_python_echo);
}

TEST(PythonInterop, AsyncioDatagramsAgainstOurEcho) {
    if (!python_available()) GTEST_SKIP() << kPython << " is not installed";
    run_interop(interop_python_datagrams_our_echo);
}
