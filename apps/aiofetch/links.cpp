#include "links.hpp"

#include <gumbo.h>

#include <memory>
#include <unordered_set>

namespace aiofetch {

namespace {

const char* attribute(const GumboElement& el, const char* name) {
    const GumboAttribute* attr = gumbo_get_attribute(&el.attributes, name);
    return attr ? attr->value : nullptr;
}

// Depth-first over the tree with an explicit stack: hostile pages can nest deeply.
template <class F>
void for_each_element(const GumboNode* root, F&& f) {
    std::vector<const GumboNode*> stack{root};
    while (!stack.empty()) {
        const GumboNode* node = stack.back();
        stack.pop_back();
        if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE) continue;
        f(node->v.element);
        const GumboVector& children = node->v.element.children;
        for (unsigned i = children.length; i > 0; --i) stack.push_back(static_cast<const GumboNode*>(children.data[i - 1]));
    }
}

}  // namespace

std::vector<aio::http::URL> extract_links(std::string_view html, const aio::http::URL& base) {
    std::unique_ptr<GumboOutput, void (*)(GumboOutput*)> doc(
        gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size()),
        [](GumboOutput* out) { gumbo_destroy_output(&kGumboDefaultOptions, out); });
    aio::http::URL page = base;
    std::vector<std::string> hrefs;
    for_each_element(doc->root, [&](const GumboElement& el) {
        if (el.tag == GUMBO_TAG_BASE) {
            if (const char* href = attribute(el, "href")) {
                try {
                    page = base.join(href);
                } catch (const aio::http::InvalidURL&) {
                }
            }
        } else if (el.tag == GUMBO_TAG_A) {
            if (const char* href = attribute(el, "href")) hrefs.emplace_back(href);
        }
    });
    std::vector<aio::http::URL> links;
    std::unordered_set<std::string> seen;
    for (const auto& href : hrefs) {
        try {
            aio::http::URL url = page.join(href).without_fragment();
            if (url.scheme() != "http" && url.scheme() != "https") continue;
            if (seen.insert(url.str()).second) links.push_back(std::move(url));
        } catch (const aio::http::InvalidURL&) {
        }
    }
    return links;
}

}  // namespace aiofetch
