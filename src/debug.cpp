#include "aio/debug.hpp"

#include <map>
#include <vector>

#include <fmt/core.h>

#include "aio/task.hpp"

namespace aio {

namespace {
void format_one(std::string& out, const AnyTask& t, const std::multimap<detail::TaskBase*, AnyTask>& children,
                int depth) {
    std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
    detail::TaskBase* s = t.state();
    const char* what = s->waiting_on() ? s->waiting_on()->what : (s->done() ? "done" : "ready");
    out += fmt::format("{}└ {} [{}]\n", indent, t.get_name(), what[0] ? what : "waiting");
    for (const auto& frame : t.get_stack()) out += fmt::format("{}    {}\n", indent, frame);
    auto [lo, hi] = children.equal_range(s);
    for (auto it = lo; it != hi; ++it) format_one(out, it->second, children, depth + 1);
}
}  // namespace

std::string format_tasks() {
    std::vector<AnyTask> tasks = all_tasks();
    // A task awaited by another is shown under its awaiter.
    std::multimap<detail::TaskBase*, AnyTask> children;
    std::map<detail::TaskBase*, bool> is_child;
    for (const auto& t : tasks) {
        t.state()->for_each_link([&](detail::DoneLink* l) {
            if (l->on_done == nullptr) return;
            for (const auto& w : tasks) {
                detail::Suspension* s = w.state()->waiting_on();
                if (s && detail::awaited_future(s) == t.state()) {
                    children.emplace(w.state(), t);
                    is_child[t.state()] = true;
                    return;
                }
            }
        });
    }
    std::string out = fmt::format("{} pending task(s)\n", tasks.size());
    for (const auto& t : tasks) {
        if (!is_child.count(t.state())) format_one(out, t, children, 0);
    }
    return out;
}

void dump_tasks(std::FILE* out) {
    std::string text = format_tasks();
    std::fputs(text.c_str(), out);
}

}  // namespace aio
