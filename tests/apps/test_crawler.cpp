#include "crawler.hpp"

#include <gtest/gtest.h>

#include <set>

#include "aio/http/server.hpp"
#include "demo_site.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

struct Site {
    aio::http::App app = aiofetch::make_demo_site(40);
    aio::http::HttpServer server;
    std::string base;
};

aio::Coro<> start(Site& site) {
    site.server = co_await aio::http::start_http_server(site.app, {.port = 0});
    site.base = "http://127.0.0.1:" + std::to_string(site.server.port());
}

aio::Coro<> stop(Site& site) {
    site.server.close();
    co_await site.server.wait_closed();
}

}  // namespace

AIO_REAL_TEST(Crawler, CrawlsTheSameHostOnceEachWithinTheDepth) {
    Site site;
    co_await start(site);
    std::vector<aiofetch::Result> results;
    aiofetch::Options options;
    options.crawl = true;
    options.depth = 10;
    options.concurrency = 8;
    options.retries = 0;
    aiofetch::Crawler crawler(options, [&](const aiofetch::Result& r) { results.push_back(r); });
    std::vector<std::string> start_urls = {site.base + "/"};
    co_await crawler.run(start_urls);
    std::set<std::string> urls;
    for (const auto& r : results) urls.insert(r.url);
    EXPECT_EQ(urls.size(), results.size());  // no URL fetched twice
    for (int n = 1; n <= 40; ++n) EXPECT_TRUE(urls.count(site.base + "/page/" + std::to_string(n))) << n;
    EXPECT_FALSE(urls.count(site.base + "/page/41"));  // not linked
    EXPECT_TRUE(urls.count("http://127.0.0.1:1/"));    // same host, server down: an error result
    int errors = 0, not_found = 0;
    for (const auto& r : results) {
        if (!r.error.empty()) ++errors;
        if (r.status == 404) ++not_found;
    }
    EXPECT_EQ(errors, 1);
    EXPECT_GE(not_found, 1);
    co_await stop(site);
}

AIO_REAL_TEST(Crawler, DepthZeroFetchesOnlyTheStartUrlsAndBadUrlsAreReported) {
    Site site;
    co_await start(site);
    std::vector<aiofetch::Result> results;
    aiofetch::Options options;
    options.crawl = true;
    options.depth = 0;
    aiofetch::Crawler crawler(options, [&](const aiofetch::Result& r) { results.push_back(r); });
    std::vector<std::string> start_urls = {site.base + "/", "not a url", "ftp://example.org/"};
    co_await crawler.run(start_urls);
    CO_ASSERT_EQ(results.size(), 3u);
    int ok = 0, invalid = 0;
    for (const auto& r : results) {
        ok += r.status == 200 ? 1 : 0;
        invalid += r.error.find("InvalidURL") != std::string::npos ? 1 : 0;
    }
    EXPECT_EQ(ok, 1);
    EXPECT_EQ(invalid, 2);
    co_await stop(site);
}

AIO_REAL_TEST(Crawler, RetriesServerErrorsWithBackoffAndRecordsAttempts) {
    Site site;
    co_await start(site);
    std::vector<aiofetch::Result> results;
    aiofetch::Options options;
    options.retries = 2;
    aiofetch::Crawler crawler(options, [&](const aiofetch::Result& r) { results.push_back(r); });
    std::vector<std::string> start_urls = {site.base + "/status/503", site.base + "/status/404"};
    co_await crawler.run(start_urls);
    CO_ASSERT_EQ(results.size(), 2u);
    for (const auto& r : results) {
        if (r.status == 503) {
            EXPECT_EQ(r.attempts, 3);
        }
        if (r.status == 404) {
            EXPECT_EQ(r.attempts, 1);  // 4xx is not retried
        }
    }
    co_await stop(site);
}

AIO_REAL_TEST(Crawler, RateLimitSpacesTheStarts) {
    Site site;
    co_await start(site);
    aiofetch::Options options;
    options.rate = 50;  // 20 ms apart
    options.concurrency = 10;
    std::vector<std::string> urls;
    for (int i = 0; i < 11; ++i) urls.push_back(site.base + "/json?i=" + std::to_string(i));
    std::size_t n = 0;
    aiofetch::Crawler crawler(options, [&](const aiofetch::Result&) { ++n; });
    const auto start_time = aio::get_running_loop().time();
    co_await crawler.run(urls);
    EXPECT_EQ(n, 11u);
    EXPECT_GE(aio::get_running_loop().time() - start_time, 190ms);  // 10 intervals of 20 ms
    co_await stop(site);
}
