#include "aio/contextvars.hpp"

#include <vector>

namespace aio::detail {

namespace {
thread_local Context tl_thread_context;
constexpr int kCompactDepth = 32;
}  // namespace

Context& current_context() {
    if (TaskBase* t = tl_current_task) return t->extras().context;
    return tl_thread_context;
}

const Context* context_of_current() noexcept {
    if (TaskBase* t = tl_current_task) return t->extras_if() ? &t->extras_if()->context : nullptr;
    return &tl_thread_context;
}

const ContextNode* context_lookup(const Context& ctx, const void* key) noexcept {
    for (const ContextNode* n = ctx.get(); n; n = n->parent.get()) {
        if (n->key == key) return n;
    }
    return nullptr;
}

void context_bind(Context& ctx, const void* key, std::shared_ptr<const void> value) {
    auto node = std::make_shared<ContextNode>();
    node->parent = ctx;
    node->key = key;
    node->value = std::move(value);
    node->depth = ctx ? ctx->depth + 1 : 1;
    if (node->depth > kCompactDepth) {
        // Rebuild with only the newest binding per variable, so a task that sets a
        // variable in a loop keeps a short chain.
        std::vector<const ContextNode*> newest;
        for (const ContextNode* n = node.get(); n; n = n->parent.get()) {
            bool seen = false;
            for (const ContextNode* m : newest) seen = seen || m->key == n->key;
            if (!seen) newest.push_back(n);
        }
        Context rebuilt;
        for (auto it = newest.rbegin(); it != newest.rend(); ++it) {
            auto copy = std::make_shared<ContextNode>();
            copy->parent = rebuilt;
            copy->key = (*it)->key;
            copy->value = (*it)->value;
            copy->depth = rebuilt ? rebuilt->depth + 1 : 1;
            rebuilt = std::move(copy);
        }
        ctx = std::move(rebuilt);
        return;
    }
    ctx = std::move(node);
}

}  // namespace aio::detail
