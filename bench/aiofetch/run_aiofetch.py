#!/usr/bin/env python3
"""The aiofetch benchmark: 10,000 URLs from the local demo site at concurrency 200.

Runs aiofetch and its peer (aiohttp_fetch.py: aiohttp with a Semaphore, on uvloop when installed)
on two URL lists against the demo site (bench_aiofetch_site, the site of `./run demo`):

  pages  /page/N for N = 1..10000: each answered after 20-140 ms, as a real backend would; the
         best possible time is the sum of the delays / concurrency.
  json   /json?i=N: answered at once; measures the fetcher's own cost per URL.

The site runs on CPU 0 and the fetcher on CPU 1 (taskset). Reported per run: wall time, URLs/s,
the fetcher's CPU time per URL and its peak RSS (from wait4). Every output line is checked:
10,000 JSON lines, all status 200. Standard library only.

    python3 bench/aiofetch/run_aiofetch.py --aiofetch build/release/apps/aiofetch/aiofetch \\
        --site build/release/bench/bench_aiofetch_site
"""
import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SYS_PYTHON = "/usr/bin/python3"  # Debian's, with python3-aiohttp and python3-uvloop


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def taskset(cpu):
    return ["taskset", "-c", cpu] if cpu is not None and os.path.exists("/usr/bin/taskset") else []


def start_site(site, pages, cpu):
    port = free_port()
    p = subprocess.Popen(taskset(cpu) + [site, str(port), str(pages)], stdout=subprocess.PIPE)
    line = p.stdout.readline().decode().strip()
    if line != "ready":
        p.kill()
        sys.exit(f"the site did not start (got {line!r})")
    return p, port


def page_delay_ms(n):
    return 20 + (n * 37) % 121  # as apps/aiofetch/demo_site.cpp answers /page/{n}


def run_fetcher(argv, cpu, expected):
    """Runs one fetcher to completion; returns wall s, CPU s, peak RSS MiB, after checking output."""
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as out:
        cmd = taskset(cpu) + [a.replace("{out}", out.name) for a in argv]
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{argv[0]} failed ({status}): {err[-500:]}")
        lines = [json.loads(line) for line in out if line.strip()]
    ok = sum(1 for r in lines if r.get("status") == 200)
    if len(lines) != expected or ok != expected:
        raise RuntimeError(f"{argv[0]}: {len(lines)} lines, {ok} with status 200, expected {expected}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aiofetch", required=True, help="the aiofetch binary")
    ap.add_argument("--site", required=True, help="the bench_aiofetch_site binary")
    ap.add_argument("--urls", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--runs", type=int, default=1, help="runs per fetcher and workload; the median is shown")
    args = ap.parse_args()

    site, port = start_site(args.site, args.urls, "0")
    base = f"http://127.0.0.1:{port}"
    workloads = {
        "pages": [f"{base}/page/{n}" for n in range(1, args.urls + 1)],
        "json": [f"{base}/json?i={n}" for n in range(1, args.urls + 1)],
    }
    ideal_pages = sum(page_delay_ms(n) for n in range(1, args.urls + 1)) / 1000 / args.concurrency
    fetchers = {
        "aiofetch": [args.aiofetch, "-q", "--retries", "0", "--timeout", "60", "-c", str(args.concurrency),
                     "-i", "{urls}", "-o", "{out}"],
        "aiohttp": [SYS_PYTHON, os.path.join(HERE, "aiohttp_fetch.py"), "{urls}", str(args.concurrency), "{out}"],
    }
    if subprocess.run([SYS_PYTHON, "-c", "import aiohttp"], capture_output=True).returncode:
        del fetchers["aiohttp"]
        print(f"aiohttp skipped: {SYS_PYTHON} cannot import aiohttp (apt-get install python3-aiohttp)", file=sys.stderr)
    uvloop = subprocess.run([SYS_PYTHON, "-c", "import uvloop"], capture_output=True).returncode == 0
    peer = "aiohttp (uvloop)" if uvloop else "aiohttp (asyncio)"
    results = []
    try:
        for workload, urls in workloads.items():
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
                f.write("\n".join(urls) + "\n")
                urls_file = f.name
            for name, argv in fetchers.items():
                runs = []
                for _ in range(args.runs):
                    cmd = [a.replace("{urls}", urls_file) for a in argv]
                    runs.append(run_fetcher(cmd, "1", len(urls)))
                runs.sort()
                wall, cpu, rss = runs[len(runs) // 2]
                label = name if name == "aiofetch" else peer
                results.append({"workload": workload, "fetcher": label, "seconds": round(wall, 3),
                                "urls_per_s": round(len(urls) / wall), "cpu_us_per_url": round(cpu * 1e6 / len(urls), 1),
                                "peak_rss_mib": round(rss, 1)})
                print(json.dumps(results[-1]), flush=True)
            os.unlink(urls_file)
    finally:
        site.terminate()
        site.wait()

    print(f"\n{args.urls} URLs, concurrency {args.concurrency}; {platform.node()}, "
          f"{time.strftime('%Y-%m-%d')}; pages: best possible {ideal_pages:.2f} s")
    print("| workload | fetcher | seconds | URLs/s | CPU µs/URL | peak RSS MiB |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['workload']} | {r['fetcher']} | {r['seconds']:.2f} | {r['urls_per_s']:,} | "
              f"{r['cpu_us_per_url']} | {r['peak_rss_mib']} |")


if __name__ == "__main__":
    main()
