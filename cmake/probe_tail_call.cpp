// Exits 0 only if a chain of 2,000,000 synchronous co_awaits runs in constant stack.
#include <coroutine>
#include <exception>
struct Co {
  struct promise_type {
    std::coroutine_handle<> cont;
    long value = 0;
    Co get_return_object() { return Co{std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct Final {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        return h.promise().cont ? h.promise().cont : std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    Final final_suspend() noexcept { return {}; }
    void return_value(long v) { value = v; }
    void unhandled_exception() { std::terminate(); }
  };
  std::coroutine_handle<promise_type> h;
  bool await_ready() { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> c) { h.promise().cont = c; return h; }
  long await_resume() { long v = h.promise().value; h.destroy(); return v; }
};
Co leaf(long i) { co_return i & 1; }
Co chain(long n) { long s = 0; for (long i = 0; i < n; ++i) s += co_await leaf(i); co_return s; }
int main() {
  Co c = chain(2000000);
  c.h.resume();
  long v = c.h.promise().value;
  c.h.destroy();
  return v == 1000000 ? 0 : 1;
}
