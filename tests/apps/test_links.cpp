#include "links.hpp"

#include <gtest/gtest.h>

using aio::http::URL;

namespace {

std::vector<std::string> strings(const std::vector<URL>& urls) {
    std::vector<std::string> out;
    for (const auto& u : urls) out.push_back(u.str());
    return out;
}

}  // namespace

TEST(Links, ResolvesRelativeLinksAndDropsFragmentsAndRepeats) {
    const char* html = R"html(<html><body>
        <a href="/a">A</a> <a href="b.html#top">B</a> <a href="b.html">B again</a>
        <p><a href="../up">up</a><a href="https://other.example/x">other</a></p>
        <a href="mailto:me@example.org">mail</a> <a href="javascript:void(0)">js</a> <a>no href</a>
        <a href="http://bad:99999/">bad port</a>
    </body></html>)html";
    auto links = strings(aiofetch::extract_links(html, URL("http://site.test/dir/page.html")));
    std::vector<std::string> want = {"http://site.test/a", "http://site.test/dir/b.html", "http://site.test/up",
                                     "https://other.example/x"};
    EXPECT_EQ(links, want);
}

TEST(Links, HonoursBaseHref) {
    const char* html = R"(<head><base href="http://cdn.test/root/"></head><a href="x">x</a>)";
    EXPECT_EQ(strings(aiofetch::extract_links(html, URL("http://site.test/p"))),
              std::vector<std::string>{"http://cdn.test/root/x"});
}

TEST(Links, SurvivesBrokenAndDeeplyNestedHtml) {
    std::string deep;
    for (int i = 0; i < 20000; ++i) deep += "<div>";
    deep += "<a href='/deep'>x</a>";
    EXPECT_EQ(strings(aiofetch::extract_links(deep, URL("http://h/"))), std::vector<std::string>{"http://h/deep"});
    EXPECT_TRUE(aiofetch::extract_links("<a href=", URL("http://h/")).empty());
    EXPECT_TRUE(aiofetch::extract_links(std::string("\0\xff<<a", 5), URL("http://h/")).empty());
}
