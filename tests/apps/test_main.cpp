// The aiofetch program as a user runs it: arguments, output file, exit status, Ctrl-C.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "aio/http/server.hpp"
#include "aio/net/subprocess.hpp"
#include "demo_site.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

std::vector<std::string> lines_of(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

struct TempPath {
    TempPath() {
        char tmpl[] = "/tmp/aiofetch-test-XXXXXX";
        const int fd = ::mkstemp(tmpl);
        if (fd >= 0) ::close(fd);
        path = tmpl;
    }
    ~TempPath() { ::unlink(path.c_str()); }
    std::string path;
};

}  // namespace

AIO_REAL_TEST(AiofetchProgram, FetchesWritesJsonLinesAndSummarises) {
    aio::http::App app = aiofetch::make_demo_site(40);
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    TempPath out;
    std::vector<std::string> args = {base + "/json", base + "/status/404", base + "/page/3", "-o", out.path,
                                     "--retries", "0"};
    aio::SubprocessOptions popts;
    popts.stderr_ = aio::Redirect::pipe;
    auto proc = co_await aio::create_subprocess_exec(AIOFETCH_BIN, args, popts);
    auto [stdout_text, stderr_text] = co_await proc.communicate();
    EXPECT_EQ(co_await proc.wait(), 2);  // some URL failed (the 404)
    const auto lines = lines_of(out.path);
    CO_ASSERT_EQ(lines.size(), 3u);
    int ok = 0, missing = 0;
    for (const auto& line : lines) {
        const auto j = nlohmann::json::parse(line);
        if (j["status"] == 200) ++ok;
        if (j["status"] == 404) ++missing;
        EXPECT_TRUE(j.contains("elapsed_ms"));
    }
    EXPECT_EQ(ok, 2);
    EXPECT_EQ(missing, 1);
    EXPECT_NE(stderr_text.find("3 URLs"), std::string::npos) << stderr_text;

    // All fine: status 0.
    std::vector<std::string> good = {base + "/json", "-o", out.path, "-q"};
    auto again = co_await aio::create_subprocess_exec(AIOFETCH_BIN, good);
    EXPECT_EQ(co_await again.wait(), 0);
    EXPECT_EQ(lines_of(out.path).size(), 1u);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(AiofetchProgram, CtrlCStopsAndKeepsWhatWasFetched) {
    aio::http::App app = aiofetch::make_demo_site(40);
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    TempPath out;
    std::vector<std::string> args = {"-o", out.path, "-c", "10", "--retries", "0"};
    for (int i = 0; i < 3; ++i) args.push_back(base + "/json?i=" + std::to_string(i));
    for (int i = 0; i < 5; ++i) args.push_back(base + "/delay/10000?i=" + std::to_string(i));
    aio::SubprocessOptions popts;
    popts.stderr_ = aio::Redirect::pipe;
    auto proc = co_await aio::create_subprocess_exec(AIOFETCH_BIN, args, popts);
    // Wait until the three fast URLs are written (they are flushed one by one).
    for (int i = 0; i < 1000 && lines_of(out.path).size() < 3; ++i) co_await aio::sleep(10ms);
    EXPECT_EQ(lines_of(out.path).size(), 3u);
    proc.send_signal(SIGINT);
    auto [stdout_text, stderr_text] = co_await aio::wait_for(proc.communicate(), 20s);
    const int status = co_await proc.wait();
    EXPECT_EQ(status, -SIGINT);  // the conventional status: killed by SIGINT, after cleanup
    EXPECT_EQ(lines_of(out.path).size(), 3u);  // the slow ones were cancelled, not written half
    EXPECT_NE(stderr_text.find("interrupted"), std::string::npos) << stderr_text;
    server.close();
    co_await server.wait_closed();
}
