// The local site `./run demo` fetches and crawls: linked pages with small delays,
// /delay/{ms}, /status/{code}, /json, and a few failures.
#pragma once

#include "aio/http/app.hpp"

namespace aiofetch {

/// Builds the demo site's routes on a new App.
[[nodiscard]] aio::http::App make_demo_site(int pages = 300);

}  // namespace aiofetch
