// ContextVar<T>: task-local values (Python's contextvars as asyncio uses them).
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "aio/detail/task_base.hpp"

namespace aio {

namespace detail {

/// One binding of an immutable chain: a context is the chain's head, so copying a
/// context at create_task is one shared_ptr copy, and set() pushes one node.
struct ContextNode {
    std::shared_ptr<const ContextNode> parent;
    const void* key = nullptr;
    std::shared_ptr<const void> value;  // null: the variable was reset to "no value"
    int depth = 0;
};
using Context = std::shared_ptr<const ContextNode>;

/// The context of the running task, or of this thread outside tasks.
Context& current_context();
/// Finds the newest binding of `key`; nullptr if none.
const ContextNode* context_lookup(const Context& ctx, const void* key) noexcept;
/// Pushes a binding (compacting the chain when it grows long).
void context_bind(Context& ctx, const void* key, std::shared_ptr<const void> value);

}  // namespace detail

/// A variable with one value per task (contextvars.ContextVar). A task starts with a
/// copy of its creator's context (O(1)); set() in a task is invisible to its creator and
/// siblings — request IDs, loggers and trace spans rely on this.
/// Thread-safety: loop-affine (each thread outside tasks has its own context).
template <class T>
class ContextVar {
public:
    /// Restores a previous value with reset() (contextvars.Token).
    class Token {
    public:
        const ContextVar* var() const noexcept { return var_; }

    private:
        friend class ContextVar;
        Token(const ContextVar* v, std::shared_ptr<const void> old) : var_(v), old_(std::move(old)) {}
        const ContextVar* var_;
        std::shared_ptr<const void> old_;
    };

    explicit ContextVar(std::string name, std::optional<T> default_value = std::nullopt)
        : name_(std::move(name)), default_(std::move(default_value)) {}
    ContextVar(const ContextVar&) = delete;
    ContextVar& operator=(const ContextVar&) = delete;

    [[nodiscard]] const std::string& name() const noexcept { return name_; }

    /// The current value, else the default; raises std::out_of_range (Python's
    /// LookupError) if there is neither.
    [[nodiscard]] const T& get() const {
        if (const T* v = find()) return *v;
        if (default_) return *default_;
        throw std::out_of_range("LookupError: ContextVar '" + name_ + "' has no value");
    }
    /// The current value, else the default, else `fallback`.
    [[nodiscard]] T get(T fallback) const {
        if (const T* v = find()) return *v;
        return default_ ? *default_ : std::move(fallback);
    }
    /// Sets the value in the current context; the token restores the previous one.
    Token set(T value) {
        detail::Context& ctx = detail::current_context();
        const detail::ContextNode* prev = detail::context_lookup(ctx, this);
        Token token(this, prev ? prev->value : nullptr);
        detail::context_bind(ctx, this, std::make_shared<const T>(std::move(value)));
        return token;
    }
    /// Restores the value the variable had before the set() that made `token`.
    void reset(const Token& token) {
        if (token.var_ != this) throw std::invalid_argument("ValueError: Token was created by a different ContextVar");
        detail::context_bind(detail::current_context(), this, token.old_);
    }

private:
    const T* find() const {
        const detail::ContextNode* n = detail::context_lookup(detail::current_context(), this);
        return n && n->value ? static_cast<const T*>(n->value.get()) : nullptr;
    }

    std::string name_;
    std::optional<T> default_;
};

}  // namespace aio
