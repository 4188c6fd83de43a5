#include "aio/http/url.hpp"

#include <gtest/gtest.h>

using aio::http::URL;

TEST(URL, ParsesEveryPart) {
    URL u("HTTPS://user:p%40ss@Example.COM:8443/a/b%20c?x=1&y=two#frag");
    EXPECT_EQ(u.scheme(), "https");
    EXPECT_EQ(u.user(), "user");
    EXPECT_EQ(u.password(), "p@ss");
    EXPECT_EQ(u.host(), "example.com");
    EXPECT_EQ(u.port(), 8443);
    EXPECT_TRUE(u.has_explicit_port());
    EXPECT_EQ(u.path(), "/a/b%20c");
    EXPECT_EQ(u.query_string(), "x=1&y=two");
    EXPECT_EQ(u.fragment(), "frag");
    EXPECT_EQ(u.target(), "/a/b%20c?x=1&y=two");
    EXPECT_EQ(u.authority(), "example.com:8443");
    EXPECT_EQ(u.origin(), "https://example.com:8443");
    EXPECT_TRUE(u.is_absolute());
    EXPECT_TRUE(u.is_secure());
    EXPECT_EQ(u.str(), "https://user:p%40ss@example.com:8443/a/b%20c?x=1&y=two#frag");
}

TEST(URL, DefaultsPortAndPath) {
    URL u("http://example.org");
    EXPECT_EQ(u.port(), 80);
    EXPECT_FALSE(u.has_explicit_port());
    EXPECT_EQ(u.path(), "/");
    EXPECT_EQ(u.target(), "/");
    EXPECT_EQ(u.authority(), "example.org");
    EXPECT_EQ(URL("https://h:443/").authority(), "h");
    EXPECT_EQ(URL("https://h/").port(), 443);
    EXPECT_EQ(URL("http://h:/x").port(), 80);
}

TEST(URL, Ipv6Literal) {
    URL u("http://[::1]:8080/x");
    EXPECT_EQ(u.host(), "::1");
    EXPECT_EQ(u.port(), 8080);
    EXPECT_EQ(u.authority(), "[::1]:8080");
    EXPECT_EQ(u.str(), "http://[::1]:8080/x");
}

TEST(URL, EncodesSpacesAndNonAsciiInThePath) {
    URL u("http://h/a b/\xc3\xa9?q=a b");
    EXPECT_EQ(u.path(), "/a%20b/%C3%A9");
    EXPECT_EQ(u.query_string(), "q=a%20b");
}

TEST(URL, RefusesBadInputWithAReason) {
    auto reason = [](std::string_view text) -> std::string {
        try {
            URL u(text);
        } catch (const aio::http::InvalidURL& e) {
            return e.what();
        }
        return "no error";
    };
    EXPECT_NE(reason("http://h:99999/").find("invalid port"), std::string::npos);
    EXPECT_NE(reason("http://h:8x/").find("invalid port"), std::string::npos);
    EXPECT_NE(reason("http:///path").find("no host"), std::string::npos);
    EXPECT_NE(reason("http://h/a\r\nX: y").find("control character"), std::string::npos);
    EXPECT_NE(reason("http://b\xc3\xbc" "cher.de/").find("IDNA"), std::string::npos);
    EXPECT_NE(reason("http://[::1/").find("IPv6"), std::string::npos);
    EXPECT_NE(reason("http://ho st/").find("host"), std::string::npos);
    EXPECT_NE(reason("http://h:99999/").find("'http://h:99999/'"), std::string::npos);  // quotes the URL
}

TEST(URL, JoinFollowsRfc3986Examples) {
    // RFC 3986 §5.4.1 and §5.4.2.
    URL base("http://a/b/c/d;p?q");
    const std::pair<const char*, const char*> cases[] = {
        {"g", "http://a/b/c/g"},         {"./g", "http://a/b/c/g"},      {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},            {"//g", "http://g/"},           {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},     {"#s", "http://a/b/c/d;p?q#s"}, {"g#s", "http://a/b/c/g#s"},
        {";x", "http://a/b/c/;x"},       {"", "http://a/b/c/d;p?q"},     {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},         {"..", "http://a/b/"},          {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},        {"../..", "http://a/"},         {"../../g", "http://a/g"},
        {"../../../g", "http://a/g"},    {"/./g", "http://a/g"},         {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},       {"..g", "http://a/b/c/..g"},    {"./../g", "http://a/b/g"},
        {"g/./h", "http://a/b/c/g/h"},   {"g/../h", "http://a/b/c/h"},   {"https://x/y", "https://x/y"},
    };
    for (const auto& [ref, want] : cases) EXPECT_EQ(base.join(ref).str(), want) << "ref " << ref;
}

TEST(URL, QueryHelpers) {
    URL u("http://h/p?a=1&b=x%20y&c&d=e+f");
    auto q = u.query();
    ASSERT_EQ(q.size(), 4u);
    EXPECT_EQ(q[1].second, "x y");
    EXPECT_EQ(q[2].first, "c");
    EXPECT_EQ(q[2].second, "");
    EXPECT_EQ(q[3].second, "e f");
    EXPECT_EQ(u.with_query({{"k", "a b&c"}}).target(), "/p?k=a+b%26c");
    EXPECT_EQ(URL("http://h/p?a=1").extend_query({{"b", "2"}}).target(), "/p?a=1&b=2");
    EXPECT_EQ(URL("http://h/p#x").without_fragment().str(), "http://h/p");
}

TEST(URL, QuoteAndUnquote) {
    EXPECT_EQ(aio::http::quote("a b/c?d"), "a%20b/c%3Fd");
    EXPECT_EQ(aio::http::quote("a/b", ""), "a%2Fb");
    EXPECT_EQ(aio::http::unquote("a%20b%2Fc"), "a b/c");
    EXPECT_EQ(aio::http::unquote("100%"), "100%");      // malformed escape kept
    EXPECT_EQ(aio::http::unquote("%zz%4"), "%zz%4");
    EXPECT_EQ(aio::http::unquote("a+b"), "a+b");
    EXPECT_EQ(aio::http::unquote("a+b", true), "a b");
    EXPECT_EQ(aio::http::urlencode({{"q", "caf\xc3\xa9"}, {"n", "1"}}), "q=caf%C3%A9&n=1");
}
