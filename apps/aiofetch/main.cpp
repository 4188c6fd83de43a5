// aiofetch: fetch many URLs concurrently, or crawl a site, and write one JSON line per URL.
//
//   aiofetch https://example.org/a https://example.org/b
//   aiofetch -i urls.txt --concurrency 50 --rate 100 -o results.jsonl
//   aiofetch --crawl --depth 3 https://docs.example.org/
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "aio/aio.hpp"
#include "run.hpp"

namespace {

std::vector<std::string> read_lines(std::istream& in) {
    std::vector<std::string> urls;
    std::string line;
    while (std::getline(in, line)) {
        auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        auto last = line.find_last_not_of(" \t\r");
        urls.push_back(line.substr(first, last - first + 1));
    }
    return urls;
}

struct Output {
    std::FILE* file = stdout;
    bool owned = false;
    ~Output() {
        if (owned) std::fclose(file);
    }
};

aio::Coro<int> amain(aiofetch::Options options, std::vector<std::string> urls, std::FILE* out, bool quiet) {
    aiofetch::Summary summary = co_await aiofetch::fetch_with_progress(options, std::move(urls), out, quiet);
    co_return summary.failed() == 0 ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Fetch URLs concurrently (or crawl a site) and write one JSON line per URL."};
    aiofetch::Options options;
    std::vector<std::string> urls;
    std::string input_file, output_file;
    long timeout_seconds = 30;
    bool quiet = false;
    app.add_option("urls", urls, "URLs to fetch (also read from -i FILE, or stdin when none are given)");
    app.add_option("-i,--input", input_file, "Read URLs from FILE, one per line ('-' for stdin)");
    app.add_option("-o,--output", output_file, "Write JSON Lines to FILE instead of stdout");
    app.add_option("-c,--concurrency", options.concurrency, "Requests in flight at most")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.add_option("--rate", options.rate, "Start at most N requests per second (0: unlimited)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--retries", options.retries, "Retries after a connection error, a timeout, 429 or 5xx")
        ->capture_default_str()
        ->check(CLI::Range(0, 20));
    app.add_option("--timeout", timeout_seconds, "Seconds allowed per attempt")->capture_default_str()->check(CLI::Range(1, 3600));
    app.add_flag("--crawl", options.crawl, "Follow links to pages on the same hosts");
    app.add_option("--depth", options.depth, "Link depth followed when crawling")->capture_default_str()->check(CLI::Range(0, 100));
    app.add_option("--max-pages", options.max_pages, "Stop discovering links beyond this many URLs")->capture_default_str();
    app.add_flag("-k,--insecure", [&](std::int64_t) { options.verify_tls = false; }, "Do not verify TLS certificates");
    app.add_flag("-q,--quiet", quiet, "No progress display and no summary");
    CLI11_PARSE(app, argc, argv);
    options.timeout = std::chrono::seconds(timeout_seconds);

    if (!input_file.empty()) {
        if (input_file == "-") {
            auto more = read_lines(std::cin);
            urls.insert(urls.end(), more.begin(), more.end());
        } else {
            std::ifstream in(input_file);
            if (!in) {
                std::fprintf(stderr, "aiofetch: cannot read %s\n", input_file.c_str());
                return 1;
            }
            auto more = read_lines(in);
            urls.insert(urls.end(), more.begin(), more.end());
        }
    } else if (urls.empty()) {
        urls = read_lines(std::cin);
    }
    if (urls.empty()) {
        std::fprintf(stderr, "aiofetch: no URLs given (arguments, -i FILE or stdin)\n");
        return 1;
    }
    Output out;
    if (!output_file.empty()) {
        out.file = std::fopen(output_file.c_str(), "w");
        if (!out.file) {
            std::fprintf(stderr, "aiofetch: cannot write %s\n", output_file.c_str());
            return 1;
        }
        out.owned = true;
    }
    return aio::run(amain(options, std::move(urls), out.file, quiet));
}
