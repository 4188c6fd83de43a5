#include "aio/http/cookies.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "aio/exceptions.hpp"

using namespace std::chrono_literals;
using aio::http::Cookie;
using aio::http::CookieJar;
using aio::http::CookieLimits;
using aio::http::Headers;
using aio::http::URL;
using time_point = std::chrono::system_clock::time_point;

namespace {

time_point at(int y, unsigned mo, unsigned d, std::chrono::seconds time_of_day = 0s) {
    const std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(mo), std::chrono::day(d)};
    return time_point(std::chrono::sys_days(date).time_since_epoch() + time_of_day);
}

// A jar on a fake clock that the test moves by hand: no test sleeps.
struct Jar {
    explicit Jar(CookieLimits limits = {}) : jar(limits, [this] { return now; }) {}
    Jar(const Jar&) = delete;

    time_point now = at(2024, 1, 15, 12h);
    CookieJar jar;

    // Stores what a response from `url` sets, one Set-Cookie header per string.
    void receive(std::string_view url, std::initializer_list<std::string_view> set_cookies) {
        Headers h;
        h.add("Content-Type", "text/plain");
        for (std::string_view c : set_cookies) h.add("Set-Cookie", c);
        jar.update_cookies(h, URL(url));
    }
    [[nodiscard]] std::string send(std::string_view url) const { return jar.cookie_header(URL(url)); }
    [[nodiscard]] Cookie only() const {
        auto all = jar.cookies();
        EXPECT_EQ(all.size(), 1u);
        return all.empty() ? Cookie{} : all.front();
    }
};

}  // namespace

// ---- Parsing (RFC 6265 §5.2) -----------------------------------------------------------

TEST(CookieJar, ParsesEveryAttribute) {
    Jar j;
    j.receive("https://www.example.com/app/login",
              {"sid=abc123; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Max-Age=3600; Domain=.Example.COM; Path=/app; "
               "Secure; HttpOnly; SameSite=strict"});
    const Cookie c = j.only();
    EXPECT_EQ(c.name, "sid");
    EXPECT_EQ(c.value, "abc123");
    EXPECT_EQ(c.domain, "example.com");  // leading dot dropped, lower-cased
    EXPECT_FALSE(c.host_only);
    EXPECT_EQ(c.path, "/app");
    EXPECT_EQ(c.expires, j.now + 3600s);  // Max-Age wins over Expires
    EXPECT_TRUE(c.secure);
    EXPECT_TRUE(c.http_only);
    EXPECT_EQ(c.same_site, "Strict");
}

TEST(CookieJar, SessionCookieHasDefaultsAndTrimsWhitespace) {
    Jar j;
    j.receive("http://example.com/a/b", {" name \t=  some value\t;  pAtH = /x ;sEcUrE ;HTTPONLY"});
    const Cookie c = j.only();
    EXPECT_EQ(c.name, "name");
    EXPECT_EQ(c.value, "some value");
    EXPECT_EQ(c.path, "/x");
    EXPECT_TRUE(c.secure);
    EXPECT_TRUE(c.http_only);
    EXPECT_EQ(c.expires, std::nullopt);
    EXPECT_TRUE(c.host_only);
    EXPECT_EQ(c.domain, "example.com");
    EXPECT_EQ(c.same_site, "");
    j.receive("http://example.com/", {"plain=1", "empty=", "quoted=\"a b\""});
    EXPECT_EQ(j.send("http://example.com/"), "plain=1; empty=; quoted=\"a b\"");
}

TEST(CookieJar, MalformedCookiesAreIgnoredWithoutThrowing) {
    Jar j;
    const URL url("http://example.com/");
    EXPECT_FALSE(j.jar.set_cookie("novalue", url));
    EXPECT_FALSE(j.jar.set_cookie("=value", url));
    EXPECT_FALSE(j.jar.set_cookie("  =value; Path=/", url));
    EXPECT_FALSE(j.jar.set_cookie("; a=1", url));
    EXPECT_FALSE(j.jar.set_cookie("", url));
    EXPECT_FALSE(j.jar.set_cookie(std::string("a=b\x01" "c"), url));
    EXPECT_FALSE(j.jar.set_cookie(std::string("a=b\0c", 5), url));
    EXPECT_FALSE(j.jar.set_cookie("a=1", URL("/relative/only")));  // no host to give it
    j.receive("http://example.com/", {"", "=", ";;;", "x"});
    EXPECT_EQ(j.jar.size(), 0u);
    EXPECT_EQ(j.send("http://example.com/"), "");
    // A bad attribute is skipped; the cookie stays.
    EXPECT_TRUE(j.jar.set_cookie("a=1; Max-Age=abc; Max-Age=1x; Max-Age=-; Expires=soon; Unknown=1; Domain=; SameSite=bogus",
                                 url));
    const Cookie c = j.only();
    EXPECT_EQ(c.value, "1");
    EXPECT_EQ(c.expires, std::nullopt);
    EXPECT_TRUE(c.host_only);
    EXPECT_EQ(c.same_site, "");
}

TEST(CookieJar, SameSiteValuesAreCanonical) {
    Jar j;
    j.receive("http://example.com/", {"a=1; SameSite=LAX", "b=1; samesite=None", "c=1; SameSite=Strict; SameSite=no"});
    auto all = j.jar.cookies();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].same_site, "Lax");
    EXPECT_EQ(all[1].same_site, "None");
    EXPECT_EQ(all[2].same_site, "");  // the last SameSite wins, and it is not a known value
}

TEST(CookieJar, TheLastOfAnAttributeWins) {
    Jar j;
    j.receive("http://example.com/dir/page", {"a=1; Path=/x; Path=/y; Max-Age=10; Max-Age=20"});
    Cookie c = j.only();
    EXPECT_EQ(c.path, "/y");
    EXPECT_EQ(c.expires, j.now + 20s);
    j.jar.clear();
    j.receive("http://example.com/dir/page", {"a=1; Path=/x; Path=relative"});  // invalid Path: default path
    EXPECT_EQ(j.only().path, "/dir");
}

TEST(CookieJar, SizeLimitCountsNameAndValue) {
    Jar j;
    const std::string name = "n";
    EXPECT_TRUE(j.jar.set_cookie(name + "=" + std::string(4095, 'v'), URL("http://example.com/")));
    EXPECT_FALSE(j.jar.set_cookie("m=" + std::string(4096, 'v'), URL("http://example.com/")));
    EXPECT_EQ(j.jar.size(), 1u);
    // An attribute value over 1024 bytes is ignored, not the cookie.
    EXPECT_TRUE(j.jar.set_cookie("p=1; Path=/" + std::string(1100, 'p'), URL("http://example.com/")));
    EXPECT_EQ(j.send("http://example.com/"), "n=" + std::string(4095, 'v') + "; p=1");
}

// ---- Dates (RFC 6265 §5.1.1) ----------------------------------------------------------------

TEST(CookieJar, ExpiresAcceptsTheRfcDateFormats) {
    const time_point expected = at(1994, 11, 6, 8h + 49min + 37s);
    for (std::string_view date : {"Sun, 06 Nov 1994 08:49:37 GMT",   // RFC 1123
                                  "Sunday, 06-Nov-94 08:49:37 GMT",  // RFC 850
                                  "Sun Nov  6 08:49:37 1994",        // asctime
                                  "Sun, 06-Nov-1994 08:49:37 GMT",   // Netscape
                                  "Sun, 06 Nov 94 08:49:37 UTC",
                                  "6 november 1994 8:49:37",
                                  "1994 Nov 6 08:49:37"}) {
        Jar j;
        j.now = at(1990, 1, 1);
        EXPECT_TRUE(j.jar.set_cookie("a=1; Expires=" + std::string(date), URL("http://example.com/"))) << date;
        auto all = j.jar.cookies();
        ASSERT_EQ(all.size(), 1u) << date;
        EXPECT_EQ(all[0].expires, expected) << date;
    }
}

TEST(CookieJar, TwoDigitYearsAndInvalidDates) {
    Jar j;
    j.now = at(1960, 1, 1);
    auto expiry = [&](std::string_view date) -> std::optional<time_point> {
        j.jar.clear();
        EXPECT_TRUE(j.jar.set_cookie("a=1; Expires=" + std::string(date), URL("http://example.com/"))) << date;
        auto all = j.jar.cookies();
        if (all.empty()) return time_point::min();  // stored nowhere: already expired
        return all[0].expires;
    };
    EXPECT_EQ(expiry("01 Jan 69 00:00:00"), at(2069, 1, 1));
    EXPECT_EQ(expiry("01 Jan 70 00:00:00"), at(1970, 1, 1));
    EXPECT_EQ(expiry("29 Feb 2024 23:59:59"), at(2024, 2, 29, 23h + 59min + 59s));
    // Each of these is not a date: the attribute is ignored and the cookie is a session one.
    for (std::string_view bad : {"30 Feb 2024 00:00:00", "29 Feb 2023 00:00:00", "31 Apr 2024 00:00:00",
                                 "32 Jan 2024 00:00:00", "0 Jan 2024 00:00:00", "01 Jan 2024 24:00:00",
                                 "01 Jan 2024 00:60:00", "01 Jan 2024 00:00:60", "01 Jan 1600 00:00:00",
                                 "01 Jan 2024", "Jan 2024 10:00:00", "01 2024 10:00:00", "01 Foo 2024 10:00:00",
                                 "01 Jan 10:00:00", "001 Jan 2024 10:00:00", "01 Jan 20245 10:00:00", "tomorrow"}) {
        EXPECT_EQ(expiry(bad), std::nullopt) << bad;
    }
    // Beyond what system_clock holds: clamped, not wrapped round into the past.
    EXPECT_EQ(expiry("31 Dec 9999 23:59:59"), time_point::max());
}

// ---- Expiry -----------------------------------------------------------------------------

TEST(CookieJar, ExpiryFollowsTheInjectedClock) {
    Jar j;
    j.receive("http://example.com/", {"short=1; Max-Age=60", "dated=1; Expires=Mon, 15 Jan 2024 13:00:00 GMT",
                                      "session=1"});
    EXPECT_EQ(j.send("http://example.com/"), "short=1; dated=1; session=1");
    j.now += 59s;
    EXPECT_EQ(j.jar.size(), 3u);
    j.now += 1s;
    EXPECT_EQ(j.send("http://example.com/"), "dated=1; session=1");
    EXPECT_EQ(j.jar.size(), 2u);
    j.now = at(2024, 1, 15, 13h);
    EXPECT_EQ(j.send("http://example.com/"), "session=1");
    EXPECT_EQ(j.jar.cookies().size(), 1u);
    j.jar.remove_expired();
    EXPECT_EQ(j.jar.size(), 1u);
}

TEST(CookieJar, MaxAgeTakesPrecedenceOverExpiresInEitherOrder) {
    Jar j;
    j.receive("http://example.com/", {"a=1; Max-Age=60; Expires=Thu, 01 Jan 2015 00:00:00 GMT",
                                      "b=1; Expires=Thu, 01 Jan 2099 00:00:00 GMT; Max-Age=0",
                                      "c=1; Expires=Thu, 01 Jan 2099 00:00:00 GMT; Max-Age=-5"});
    const Cookie c = j.only();
    EXPECT_EQ(c.name, "a");
    EXPECT_EQ(c.expires, j.now + 60s);
}

TEST(CookieJar, MaxAgeZeroOrAPastExpiresDeletesTheCookie) {
    Jar j;
    j.receive("http://example.com/", {"a=1", "b=2", "c=3; Path=/p"});
    j.receive("http://example.com/", {"a=gone; Max-Age=0", "b=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT"});
    EXPECT_EQ(j.send("http://example.com/p"), "c=3");
    // Deleting needs the same name, domain and path.
    j.receive("http://example.com/", {"c=x; Max-Age=0"});
    j.receive("http://www.example.com/p", {"c=x; Max-Age=0; Path=/p"});
    EXPECT_EQ(j.send("http://example.com/p"), "c=3");
    j.receive("http://example.com/", {"c=x; Max-Age=0; Path=/p"});
    EXPECT_EQ(j.jar.size(), 0u);
    EXPECT_EQ(j.send("http://example.com/p"), "");
}

// ---- Replacement and order (RFC 6265 §5.3, §5.4) ------------------------------------------

TEST(CookieJar, ASameNamedCookieReplacesTheOldAndKeepsItsPlace) {
    Jar j;
    j.receive("http://example.com/", {"a=1", "b=2"});
    j.now += 1s;
    j.receive("http://example.com/", {"a=3; Max-Age=100; Secure"});
    EXPECT_EQ(j.jar.size(), 2u);
    EXPECT_EQ(j.send("https://example.com/"), "a=3; b=2");  // a was created first
    EXPECT_EQ(j.send("http://example.com/"), "b=2");        // the new a is Secure
    // Another path is another cookie; the identity is name, domain and path, so a Domain
    // cookie replaces the host-only one of the same domain.
    j.receive("http://example.com/", {"a=4; Path=/x", "a=5; Domain=example.com"});
    EXPECT_EQ(j.jar.size(), 3u);
    EXPECT_EQ(j.send("https://example.com/x/y"), "a=4; a=5; b=2");
    // Another domain is another cookie.
    j.receive("http://www.example.com/", {"a=6"});
    EXPECT_EQ(j.jar.size(), 4u);
    EXPECT_EQ(j.send("http://www.example.com/"), "a=5; a=6");
}

TEST(CookieJar, LongerPathsFirstThenEarlierCreation) {
    Jar j;
    j.receive("http://example.com/", {"root1=1", "deep=1; Path=/a/b", "mid=1; Path=/a"});
    j.now += 1s;
    j.receive("http://example.com/", {"root2=1", "deep2=1; Path=/a/b/"});
    EXPECT_EQ(j.send("http://example.com/a/b/c"), "deep2=1; deep=1; mid=1; root1=1; root2=1");
}

// ---- Domains and paths (RFC 6265 §5.1.3, §5.1.4) -------------------------------------------

TEST(CookieJar, HostOnlyCookiesGoToTheirHostOnly) {
    Jar j;
    j.receive("http://example.com/", {"host=1"});
    EXPECT_EQ(j.send("http://example.com/"), "host=1");
    EXPECT_EQ(j.send("http://EXAMPLE.com:8080/any"), "host=1");  // ports do not matter (§8.5)
    EXPECT_EQ(j.send("http://www.example.com/"), "");
    EXPECT_EQ(j.send("http://example.org/"), "");
    EXPECT_EQ(j.send("http://notexample.com/"), "");
}

TEST(CookieJar, DomainCookiesGoToTheDomainAndItsSubdomains) {
    Jar j;
    j.receive("http://www.example.com/", {"dom=1; Domain=example.com"});
    const Cookie c = j.only();
    EXPECT_FALSE(c.host_only);
    EXPECT_EQ(c.domain, "example.com");
    EXPECT_EQ(j.send("http://example.com/"), "dom=1");
    EXPECT_EQ(j.send("http://www.example.com/"), "dom=1");
    EXPECT_EQ(j.send("http://a.b.example.com/"), "dom=1");
    EXPECT_EQ(j.send("http://notexample.com/"), "");
    EXPECT_EQ(j.send("http://example.com.evil.org/"), "");
    EXPECT_EQ(j.send("http://com/"), "");
    // Domain equal to the host: still a domain cookie.
    j.receive("http://example.org/", {"org=1; Domain=EXAMPLE.org"});
    EXPECT_EQ(j.send("http://sub.example.org/"), "org=1");
}

TEST(CookieJar, ADomainTheHostDoesNotMatchIsRefused) {
    Jar j;
    const URL url("http://www.example.com/");
    EXPECT_FALSE(j.jar.set_cookie("a=1; Domain=other.com", url));
    EXPECT_FALSE(j.jar.set_cookie("a=1; Domain=sub.www.example.com", url));  // a child, not a parent
    EXPECT_FALSE(j.jar.set_cookie("a=1; Domain=ample.com", url));
    EXPECT_FALSE(j.jar.set_cookie("a=1; Domain=com", url));  // a top-level domain
    EXPECT_FALSE(j.jar.set_cookie("a=1; Domain=.com", url));
    EXPECT_EQ(j.jar.size(), 0u);
    // A single label from that very host is host-only.
    EXPECT_TRUE(j.jar.set_cookie("a=1; Domain=localhost", URL("http://localhost:8080/")));
    EXPECT_TRUE(j.only().host_only);
}

TEST(CookieJar, IpAddressHostsGetHostOnlyCookies) {
    Jar j;
    j.receive("http://127.0.0.1:8080/", {"plain=1"});
    EXPECT_EQ(j.send("http://127.0.0.1/"), "plain=1");
    EXPECT_EQ(j.send("http://127.0.0.2/"), "");
    EXPECT_FALSE(j.jar.set_cookie("a=1; Domain=0.0.1", URL("http://127.0.0.1/")));
    EXPECT_FALSE(j.jar.set_cookie("a=1; Domain=.0.0.1", URL("http://127.0.0.1/")));
    EXPECT_FALSE(j.jar.set_cookie("a=1; Domain=example.com", URL("http://127.0.0.1/")));
    EXPECT_TRUE(j.jar.set_cookie("same=1; Domain=127.0.0.1", URL("http://127.0.0.1/")));
    EXPECT_EQ(j.jar.cookies().back().host_only, true);
    EXPECT_EQ(j.send("http://127.0.0.1/"), "plain=1; same=1");
    j.receive("http://[::1]:9000/", {"six=1"});
    EXPECT_EQ(j.send("http://[::1]/"), "six=1");
    EXPECT_FALSE(j.jar.set_cookie("a=1; Domain=1", URL("http://[::1]/")));
}

TEST(CookieJar, DefaultPathIsTheRequestDirectory) {
    Jar j;
    auto path_for = [&](std::string_view url) {
        j.jar.clear();
        j.receive(url, {"a=1"});
        return j.only().path;
    };
    EXPECT_EQ(path_for("http://example.com/a/b/c"), "/a/b");
    EXPECT_EQ(path_for("http://example.com/a/b/"), "/a/b");
    EXPECT_EQ(path_for("http://example.com/a"), "/");
    EXPECT_EQ(path_for("http://example.com/"), "/");
    EXPECT_EQ(path_for("http://example.com"), "/");
    EXPECT_EQ(path_for("http://example.com/a/b?x=/y/z"), "/a");
}

TEST(CookieJar, PathMatching) {
    Jar j;
    j.receive("http://example.com/", {"docs=1; Path=/docs", "slash=1; Path=/docs/"});
    EXPECT_EQ(j.send("http://example.com/docs"), "docs=1");
    EXPECT_EQ(j.send("http://example.com/docs/"), "slash=1; docs=1");
    EXPECT_EQ(j.send("http://example.com/docs/web/x.html?q=1"), "slash=1; docs=1");
    EXPECT_EQ(j.send("http://example.com/doc"), "");
    EXPECT_EQ(j.send("http://example.com/docsets"), "");
    EXPECT_EQ(j.send("http://example.com/Docs"), "");  // paths are case-sensitive
    EXPECT_EQ(j.send("http://example.com/"), "");
}

TEST(CookieJar, SecureCookiesGoOverHttpsOnly) {
    Jar j;
    j.receive("https://example.com/", {"s=1; Secure", "p=2"});
    EXPECT_EQ(j.send("https://example.com/"), "s=1; p=2");
    EXPECT_EQ(j.send("http://example.com/"), "p=2");
    EXPECT_EQ(j.send("http://localhost/"), "");
}

// ---- Limits -----------------------------------------------------------------------------------

TEST(CookieJar, PerDomainCapDropsTheOldest) {
    Jar j(CookieLimits{.per_domain = 3, .total = 100, .max_size = 4096});
    j.receive("http://example.com/", {"a=1", "b=1", "c=1"});
    j.receive("http://example.com/", {"a=2"});  // a replacement is no new cookie
    j.receive("http://example.com/", {"d=1"});
    EXPECT_EQ(j.send("http://example.com/"), "b=1; c=1; d=1");
    j.receive("http://other.com/", {"x=1"});  // another domain has its own count
    EXPECT_EQ(j.jar.size(), 4u);
}

TEST(CookieJar, ExpiredCookiesGoBeforeTheOldest) {
    Jar j(CookieLimits{.per_domain = 2, .total = 3, .max_size = 4096});
    j.receive("http://example.com/", {"old=1", "brief=1; Max-Age=10"});
    j.now += 20s;
    j.receive("http://example.com/", {"new=1"});
    EXPECT_EQ(j.send("http://example.com/"), "old=1; new=1");
    j.receive("http://a.com/", {"a=1; Max-Age=5"});
    j.now += 10s;
    j.receive("http://b.com/", {"b=1"});  // total over 3: the expired a=1 goes, not old=1
    EXPECT_EQ(j.send("http://example.com/"), "old=1; new=1");
    EXPECT_EQ(j.send("http://b.com/"), "b=1");
}

TEST(CookieJar, TotalCapDropsTheOldestAcrossDomains) {
    Jar j(CookieLimits{.per_domain = 10, .total = 3, .max_size = 4096});
    j.receive("http://a.com/", {"a=1"});
    j.receive("http://b.com/", {"b=1", "b2=1"});
    j.receive("http://c.com/", {"c=1"});
    EXPECT_EQ(j.jar.size(), 3u);
    EXPECT_EQ(j.send("http://a.com/"), "");
    EXPECT_EQ(j.send("http://b.com/"), "b=1; b2=1");
    EXPECT_EQ(j.send("http://c.com/"), "c=1");
}

TEST(CookieJar, DefaultLimits) {
    Jar j;
    for (int i = 0; i < 60; ++i) j.receive("http://example.com/", {"c" + std::to_string(i) + "=1"});
    EXPECT_EQ(j.jar.size(), 50u);
    EXPECT_EQ(j.jar.cookies().front().name, "c10");
    for (int d = 0; d < 70; ++d) {
        for (int i = 0; i < 50; ++i) {
            j.receive("http://d" + std::to_string(d) + ".example.org/", {"c" + std::to_string(i) + "=1"});
        }
    }
    EXPECT_EQ(j.jar.size(), 3000u);
    EXPECT_EQ(j.send("http://example.com/"), "");  // the oldest domain's went first
    EXPECT_EQ(j.jar.filter_cookies(URL("http://d9.example.org/")).size(), 0u);
    EXPECT_EQ(j.jar.filter_cookies(URL("http://d10.example.org/")).size(), 50u);
    EXPECT_EQ(j.jar.filter_cookies(URL("http://d69.example.org/")).size(), 50u);
}

// ---- Setting directly, inspecting, clearing -------------------------------------------------

TEST(CookieJar, SetStoresADomainCookieOrASharedOne) {
    Jar j;
    j.jar.set("token", "t1", ".Example.com");
    EXPECT_EQ(j.send("http://example.com/"), "token=t1");
    EXPECT_EQ(j.send("https://api.example.com/v1"), "token=t1");
    EXPECT_EQ(j.send("http://example.org/"), "");
    j.jar.set("scoped", "s", "example.com", "/api");
    EXPECT_EQ(j.send("http://example.com/api/x"), "scoped=s; token=t1");
    j.jar.set("everywhere", "e", "");
    EXPECT_EQ(j.send("http://127.0.0.1/"), "everywhere=e");
    EXPECT_EQ(j.send("http://example.com/"), "token=t1; everywhere=e");
    j.jar.set("token", "t2", "example.com");
    EXPECT_EQ(j.send("http://example.com/"), "token=t2; everywhere=e");
    EXPECT_EQ(j.jar.size(), 3u);
    EXPECT_THROW(j.jar.set("bad name", "v", "example.com"), aio::ValueError);
    EXPECT_THROW(j.jar.set("", "v", "example.com"), aio::ValueError);
    EXPECT_THROW(j.jar.set("n", "a;b", "example.com"), aio::ValueError);
    EXPECT_THROW(j.jar.set("n", "a\r\nX-Evil: 1", "example.com"), aio::ValueError);
    EXPECT_THROW(j.jar.set("n", "v", "example.com", "relative"), aio::ValueError);
    EXPECT_THROW(j.jar.set("n", "v", "exa mple.com"), aio::ValueError);
    EXPECT_EQ(j.jar.size(), 3u);
}

TEST(CookieJar, CookiesCanBeSavedAndRestored) {
    Jar j;
    j.receive("https://www.example.com/app/x", {"a=1; Secure; HttpOnly; SameSite=Lax; Max-Age=600", "b=2; Domain=example.com"});
    Jar copy;
    for (Cookie c : j.jar.cookies()) copy.jar.set(std::move(c));
    auto restored = copy.jar.cookies();
    ASSERT_EQ(restored.size(), 2u);
    EXPECT_EQ(restored[0].name, "a");
    EXPECT_EQ(restored[0].path, "/app");
    EXPECT_TRUE(restored[0].host_only);
    EXPECT_TRUE(restored[0].secure);
    EXPECT_TRUE(restored[0].http_only);
    EXPECT_EQ(restored[0].same_site, "Lax");
    EXPECT_EQ(restored[0].expires, j.now + 600s);
    EXPECT_EQ(copy.send("https://www.example.com/app/y"), "a=1; b=2");
    EXPECT_EQ(copy.send("https://example.com/app/y"), "b=2");  // a stayed host-only
}

TEST(CookieJar, ClearAndClearDomain) {
    Jar j;
    j.receive("http://example.com/", {"a=1"});
    j.receive("http://www.example.com/", {"b=1"});
    j.receive("http://example.org/", {"c=1"});
    j.jar.clear_domain(".EXAMPLE.com");
    EXPECT_EQ(j.jar.size(), 1u);
    EXPECT_EQ(j.send("http://example.org/"), "c=1");
    j.jar.clear();
    EXPECT_TRUE(j.jar.empty());
    EXPECT_EQ(j.send("http://example.org/"), "");
}

TEST(CookieJar, UpdateCookiesReadsEverySetCookieHeaderOnly) {
    Jar j;
    Headers h;
    h.add("Set-Cookie", "a=1");
    h.add("X-Set-Cookie", "no=1");
    h.add("set-cookie", "b=2; Path=/");
    h.add("SET-COOKIE", "broken");
    j.jar.update_cookies(h, URL("http://example.com/"));
    EXPECT_EQ(j.send("http://example.com/"), "a=1; b=2");
    auto filtered = j.jar.filter_cookies(URL("http://example.com/"));
    ASSERT_EQ(filtered.size(), 2u);
    EXPECT_EQ(filtered[1].name, "b");
}
