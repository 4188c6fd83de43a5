// Intrusive ready-queue links shared by tasks and callback handles (not user API).
#pragma once

#include <cstddef>
#include <cstdint>

namespace aio::detail {

/// A place in the ready queue. Tasks and callback handles embed it, so scheduling never
/// allocates. The link to the next entry carries, in its low bit, whether that entry is
/// a task: a task is run by TaskBase::run_step and needs no function pointer of its own.
struct ReadyLink {
    std::uintptr_t next_ready = 0;
};

/// A ready-queue entry that is not a task: `run` is a plain function pointer, so the
/// hot path has no vtable.
struct ReadyItem : ReadyLink {
    void (*run)(ReadyItem*) = nullptr;
};

/// FIFO of ready entries: call_soon order is run order.
class ReadyQueue {
public:
    static constexpr std::uintptr_t kTask = 1;

    [[nodiscard]] bool empty() const noexcept { return head_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    /// `tag` is kTask for a task, 0 for a ReadyItem.
    void push(ReadyLink* link, std::uintptr_t tag) noexcept {
        link->next_ready = 0;
        const std::uintptr_t entry = reinterpret_cast<std::uintptr_t>(link) | tag;
        if (tail_) {
            tail_->next_ready = entry;
        } else {
            head_ = entry;
        }
        tail_ = link;
        ++size_;
    }
    /// Removes the first entry; `is_task` says which kind it is.
    ReadyLink* pop(bool& is_task) noexcept {
        is_task = (head_ & kTask) != 0;
        auto* link = reinterpret_cast<ReadyLink*>(head_ & ~kTask);
        head_ = link->next_ready;
        if (!head_) tail_ = nullptr;
        --size_;
        return link;
    }

private:
    std::uintptr_t head_ = 0;
    ReadyLink* tail_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace aio::detail
