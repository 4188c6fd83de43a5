# Peer benchmark: CPython asyncio (spawn, spawn_all, switch, timers, sleepers); see bench/peers/README.md.
import asyncio, json, sys, time


def rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def delays_ms(n, seed=42):
    # Shared LCG so every peer sleeps the same list of delays (uniform integers in [0, 1000] ms).
    x, out = seed, []
    for _ in range(n):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        out.append((x >> 8) % 1001)
    return out


async def ret(i):
    return i


async def spawn(n):
    s = 0
    for i in range(n):
        s += await asyncio.create_task(ret(i))
    assert s == n * (n - 1) // 2


async def spawn_all(n):
    tasks = [asyncio.create_task(ret(i)) for i in range(n)]
    s = 0
    for t in tasks:
        s += await t
    assert s == n * (n - 1) // 2


async def switch(n):
    q1, q2 = asyncio.Queue(), asyncio.Queue()

    async def pong():
        for _ in range(n):
            await q2.put(await q1.get())

    b = asyncio.create_task(pong())
    for i in range(n):
        await q1.put(i)
        assert await q2.get() == i
    await b


async def sleep_all(ms_list):
    await asyncio.gather(*[asyncio.create_task(asyncio.sleep(ms / 1000)) for ms in ms_list])


def main(peer, runner_kwargs):
    workload, n = sys.argv[1], int(sys.argv[2])
    ms_list = delays_ms(n) if workload == "timers" else [1000] * n if workload == "sleepers" else None
    fn = {"spawn": spawn, "spawn_all": spawn_all, "switch": switch}.get(workload)
    with asyncio.Runner(**runner_kwargs) as runner:
        runner.run(asyncio.sleep(0))  # start the loop before measuring
        base = rss_kb("VmRSS")
        t0 = time.perf_counter_ns()
        runner.run(sleep_all(ms_list) if ms_list is not None else fn(n))
        wall_ns = time.perf_counter_ns() - t0
    peak = rss_kb("VmHWM")
    out = {"peer": peer, "workload": workload, "n": n, "ns_per_op": wall_ns / n,
           "wall_ms": wall_ns / 1e6, "baseline_rss_kb": base, "peak_rss_kb": peak,
           "bytes_per_task": (peak - base) * 1024 / n}
    if ms_list is not None:
        out["max_sleep_ms"] = max(ms_list)
        out["lateness_ms"] = wall_ns / 1e6 - max(ms_list)
    print(json.dumps(out))


if __name__ == "__main__":
    main("asyncio", {})
