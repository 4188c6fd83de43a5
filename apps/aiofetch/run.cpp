#include "run.hpp"

#include <unistd.h>

namespace aiofetch {

aio::Coro<Summary> fetch_with_progress(Options options, std::vector<std::string> urls, std::FILE* out, bool quiet) {
    Summary summary;
    Progress progress(stderr, ::isatty(STDERR_FILENO) != 0);
    auto& loop = aio::get_running_loop();
    const auto start = loop.time();
    auto seconds = [&] { return std::chrono::duration<double>(loop.time() - start).count(); };
    Crawler crawler(options, [&](const Result& r) {
        std::string line = to_json_line(r);
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), out);
        std::fflush(out);  // an interrupted run loses nothing already fetched
        summary.add(r);
    });
    // The display ticks on its own task beside the crawl.
    auto ticker = [&]() -> aio::Coro<> {
        const auto period = progress.terminal() ? std::chrono::milliseconds(100) : std::chrono::milliseconds(1000);
        for (;;) {
            co_await aio::sleep(period);
            progress.show(summary, crawler.known(), seconds());
        }
    };
    aio::Task<void> ticker_task;
    if (!quiet) ticker_task = aio::create_task(ticker(), "aiofetch progress");
    bool interrupted = false;
    try {
        co_await crawler.run(std::move(urls));
    } catch (const aio::CancelledError&) {
        interrupted = true;
    }
    if (ticker_task) {
        ticker_task.cancel();
        try {
            co_await ticker_task;
        } catch (const aio::CancelledError&) {
        }
    }
    if (!quiet) {
        progress.show(summary, crawler.known(), seconds());
        progress.finish();
        summary.print(stderr, seconds());
    }
    if (interrupted) {
        std::fputs("aiofetch: interrupted; every result above was written\n", stderr);
        throw aio::CancelledError("interrupted");
    }
    co_return summary;
}

}  // namespace aiofetch
