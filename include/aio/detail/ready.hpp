// Intrusive ready-queue links shared by tasks and callback handles (not user API).
#pragma once

#include <cstddef>

namespace aio::detail {

/// Something the loop can run one step of. Tasks and callback handles embed it, so
/// scheduling never allocates. `run` is a plain function pointer: no vtable on the hot path.
struct ReadyItem {
    ReadyItem* next_ready = nullptr;
    void (*run)(ReadyItem*) = nullptr;
};

/// FIFO of ReadyItems: call_soon order is run order.
class ReadyQueue {
public:
    [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    void push(ReadyItem* item) noexcept {
        item->next_ready = nullptr;
        if (tail_) {
            tail_->next_ready = item;
        } else {
            head_ = item;
        }
        tail_ = item;
        ++size_;
    }
    ReadyItem* pop() noexcept {
        ReadyItem* item = head_;
        head_ = item->next_ready;
        if (!head_) tail_ = nullptr;
        --size_;
        return item;
    }

private:
    ReadyItem* head_ = nullptr;
    ReadyItem* tail_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace aio::detail
