// One aiofetch run as the command line and the demo show it: results as JSON Lines, a
// live progress display on stderr, and the summary at the end.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "aio/coro.hpp"
#include "crawler.hpp"
#include "report.hpp"

namespace aiofetch {

/// Fetches (or crawls) `urls`, writing one JSON line per URL to `out` (flushed as each
/// completes). Unless `quiet`, shows progress and then the summary on stderr. Returns the
/// summary. On Ctrl-C (cancellation) the summary of what was fetched is still printed
/// before CancelledError propagates.
/// Cancellation: Cancel-safe: in-flight requests are cancelled; results already written
/// stay written.
[[nodiscard]] aio::Coro<Summary> fetch_with_progress(Options options, std::vector<std::string> urls, std::FILE* out,
                                                     bool quiet);

}  // namespace aiofetch
