#include "report.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

TEST(Report, JsonLineHasEveryField) {
    aiofetch::Result r;
    r.url = "http://h/x";
    r.status = 200;
    r.bytes = 42;
    r.elapsed_ms = 12.345;
    r.attempts = 2;
    r.depth = 1;
    auto j = nlohmann::json::parse(aiofetch::to_json_line(r));
    EXPECT_EQ(j["url"], "http://h/x");
    EXPECT_EQ(j["status"], 200);
    EXPECT_EQ(j["bytes"], 42);
    EXPECT_DOUBLE_EQ(j["elapsed_ms"].get<double>(), 12.3);
    EXPECT_TRUE(j["error"].is_null());
    EXPECT_EQ(j["attempts"], 2);
    r.error = "ClientConnectorError: refused \xff";
    j = nlohmann::json::parse(aiofetch::to_json_line(r));  // invalid UTF-8 replaced, not thrown
    EXPECT_NE(j["error"].get<std::string>().find("ClientConnectorError"), std::string::npos);
}

TEST(Report, SummaryCountsAndPercentiles) {
    aiofetch::Summary s;
    for (int i = 1; i <= 100; ++i) {
        aiofetch::Result r;
        r.status = i <= 90 ? 200 : 503;
        r.bytes = 10;
        r.elapsed_ms = i;
        s.add(r);
    }
    aiofetch::Result failed;
    failed.error = "TimeoutError: too slow";
    failed.elapsed_ms = 1000;
    s.add(failed);
    EXPECT_EQ(s.count(), 101u);
    EXPECT_EQ(s.ok(), 90u);
    EXPECT_EQ(s.failed(), 11u);
    EXPECT_EQ(s.bytes(), 1000u);
    EXPECT_EQ(s.statuses().at(503), 10u);
    EXPECT_EQ(s.statuses().at(0), 1u);
    EXPECT_EQ(s.errors().at("TimeoutError"), 1u);
    EXPECT_DOUBLE_EQ(s.latency_percentile(50), 51);
    EXPECT_DOUBLE_EQ(s.latency_percentile(100), 1000);
    char buf[4096] = {};
    std::FILE* f = fmemopen(buf, sizeof buf - 1, "w");
    s.print(f, 2.0);
    std::fclose(f);
    std::string text(buf);
    EXPECT_NE(text.find("101 URLs"), std::string::npos) << text;
    EXPECT_NE(text.find("503: 10"), std::string::npos) << text;
    EXPECT_NE(text.find("1 x TimeoutError"), std::string::npos) << text;
}

TEST(Report, ProgressIsPlainWhenNotATerminal) {
    char buf[1024] = {};
    std::FILE* f = fmemopen(buf, sizeof buf - 1, "w");
    aiofetch::Progress p(f, false);
    aiofetch::Summary s;
    p.show(s, 10, 1.0);
    p.finish();
    std::fclose(f);
    std::string text(buf);
    EXPECT_EQ(text.find('\x1b'), std::string::npos);
    EXPECT_NE(text.find("0/10"), std::string::npos);
}
