// Link extraction for the crawler: the <a href> targets of an HTML page, resolved.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aio/http/url.hpp"

namespace aiofetch {

/// The http(s) URLs that `html`'s `<a href>` elements point to, resolved against `base`
/// (or the page's own `<base href>`), without fragments, in document order and without
/// repeats. Malformed hrefs are skipped.
[[nodiscard]] std::vector<aio::http::URL> extract_links(std::string_view html, const aio::http::URL& base);

}  // namespace aiofetch
