// Introspection for a running loop: the task tree with each task's async call chain
// (asyncio's graph.py / `python -m asyncio pstree`).
#pragma once

#include <cstdio>
#include <string>

namespace aio {

/// Text listing every pending task of the running loop as a tree (a task under the task
/// that awaits it), with what each one awaits and its async call chain.
[[nodiscard]] std::string format_tasks();

/// Writes format_tasks() to `out`.
void dump_tasks(std::FILE* out = stderr);

}  // namespace aio
