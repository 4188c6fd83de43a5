#include "aio/http/headers.hpp"

#include <gtest/gtest.h>

#include "aio/exceptions.hpp"

using aio::http::Headers;

TEST(Headers, NamesAreCaseInsensitiveAndKeepTheirSpelling) {
    Headers h{{"Content-Type", "text/html"}, {"X-Id", "7"}};
    EXPECT_EQ(h.get("content-type"), "text/html");
    EXPECT_EQ(h.get("CONTENT-TYPE", "x"), "text/html");
    EXPECT_EQ(h.get("missing", "fallback"), "fallback");
    EXPECT_FALSE(h.get("missing").has_value());
    EXPECT_TRUE(h.contains("x-id"));
    EXPECT_EQ(h.begin()->first, "Content-Type");
}

TEST(Headers, MultipleValuesKeepTheirOrder) {
    Headers h;
    h.add("Set-Cookie", "a=1");
    h.add("Other", "x");
    h.add("set-cookie", "b=2");
    EXPECT_EQ(h.get("Set-Cookie"), "a=1");
    auto all = h.get_all("SET-COOKIE");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], "a=1");
    EXPECT_EQ(all[1], "b=2");
    EXPECT_EQ(h.size(), 3u);
}

TEST(Headers, SetReplacesEveryFieldOfThatName) {
    Headers h{{"A", "1"}, {"B", "2"}, {"a", "3"}};
    h.set("A", "9");
    EXPECT_EQ(h.size(), 2u);
    EXPECT_EQ(h.get_all("a").size(), 1u);
    EXPECT_EQ(h.get("a"), "9");
    EXPECT_EQ(h.begin()->first, "A");  // stays in place
    h.setdefault("a", "ignored");
    h.setdefault("C", "new");
    EXPECT_EQ(h.get("a"), "9");
    EXPECT_EQ(h.get("c"), "new");
    EXPECT_EQ(h.erase("A"), 1u);
    EXPECT_EQ(h.erase("A"), 0u);
}

TEST(Headers, AtNamesTheMissingHeader) {
    Headers h;
    try {
        (void)h.at("X-Request-Id");
        FAIL() << "expected KeyError";
    } catch (const aio::KeyError& e) {
        EXPECT_NE(std::string(e.what()).find("X-Request-Id"), std::string::npos);
    }
}

TEST(Headers, EqualityIgnoresNameCaseButNotOrderOrValueCase) {
    EXPECT_EQ((Headers{{"A", "x"}}), (Headers{{"a", "x"}}));
    EXPECT_NE((Headers{{"A", "x"}}), (Headers{{"a", "X"}}));
    EXPECT_NE((Headers{{"A", "1"}, {"B", "2"}}), (Headers{{"B", "2"}, {"A", "1"}}));
}

TEST(Headers, HasTokenReadsCommaLists) {
    EXPECT_TRUE(aio::http::has_token("keep-alive, Upgrade", "upgrade"));
    EXPECT_TRUE(aio::http::has_token(" close ", "close"));
    EXPECT_FALSE(aio::http::has_token("closed", "close"));
    EXPECT_FALSE(aio::http::has_token("", "close"));
    EXPECT_TRUE(aio::http::iequals("Keep-Alive", "keep-alive"));
    EXPECT_FALSE(aio::http::iequals("a", "ab"));
}
