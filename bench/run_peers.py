#!/usr/bin/env python3
"""Build and run the core-runtime benchmarks for every peer runtime (and ours) side by side.

Each benchmark program takes `WORKLOAD N` and prints one JSON line; see bench/peers/README.md.
Standard library only. Example:

    python3 bench/run_peers.py --quick
    python3 bench/run_peers.py --ours build/release/bench/bench_core --json-out results.jsonl
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS_DIR = os.path.join(ROOT, "bench", "peers")
SYS_PYTHON = "/usr/bin/python3"  # Debian's python (python3 on PATH may be a pyenv one)
DEBIAN_REGISTRY = "/usr/share/cargo/registry"
APT_PACKAGES = ["python3-uvloop", "golang", "libasio-dev", "librust-tokio-dev", "cargo", "rustc", "g++"]

WORKLOADS = {  # name -> default N
    "spawn": 1_000_000,
    "spawn_all": 1_000_000,
    "switch": 1_000_000,
    "timers": 100_000,
    "sleepers": 1_000_000,
}

# Table rows: (label, workload, JSON key, scale factor).
ROWS = [
    ("spawn: ns per spawn+await", "spawn", "ns_per_op", 1),
    ("spawn_all: ns per task", "spawn_all", "ns_per_op", 1),
    ("switch: ns per round trip", "switch", "ns_per_op", 1),
    ("timers: lateness ms", "timers", "lateness_ms", 1),
    ("timers: bytes per task", "timers", "bytes_per_task", 1),
    ("sleepers: lateness ms", "sleepers", "lateness_ms", 1),
    ("sleepers: bytes per task", "sleepers", "bytes_per_task", 1),
    ("sleepers: peak RSS MiB", "sleepers", "peak_rss_kb", 1 / 1024),
]


class Skip(Exception):
    """A peer that cannot be built or run here; reported as a note."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_checked(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if p.returncode != 0:
        tail = "\n".join(p.stdout.strip().splitlines()[-15:])
        raise Skip(f"`{' '.join(cmd)}` failed (exit {p.returncode}):\n{tail}")
    return p.stdout


def newer_than_sources(target, sources):
    if not os.path.exists(target):
        return False
    t = os.path.getmtime(target)
    return all(os.path.getmtime(s) <= t for s in sources)


def tree_files(path):
    out = []
    for d, _, files in os.walk(path):
        out += [os.path.join(d, f) for f in files]
    return out


def tool(*candidates):
    for c in candidates:
        p = c if os.path.isabs(c) else shutil.which(c)
        if p and os.access(p, os.X_OK):
            return p
    return None


# ---- peers: each returns the argv prefix to run, or raises Skip -------------------------------

def peer_asyncio(build_dir):
    if not tool(SYS_PYTHON):
        raise Skip(f"{SYS_PYTHON} not found (apt-get install python3)")
    return [SYS_PYTHON, os.path.join(PEERS_DIR, "python", "bench.py")]


def peer_uvloop(build_dir):
    if not tool(SYS_PYTHON):
        raise Skip(f"{SYS_PYTHON} not found (apt-get install python3)")
    if subprocess.run([SYS_PYTHON, "-c", "import uvloop"], capture_output=True).returncode != 0:
        raise Skip("uvloop not importable by /usr/bin/python3 (apt-get install python3-uvloop)")
    return [SYS_PYTHON, os.path.join(PEERS_DIR, "uvloop", "bench.py")]


def peer_go(build_dir):
    go = tool("/usr/bin/go", "go")
    if not go:
        raise Skip("go not found (apt-get install golang)")
    src = os.path.join(PEERS_DIR, "go")
    out = os.path.join(build_dir, "go", "bench")
    if not newer_than_sources(out, tree_files(src)):
        env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GOTOOLCHAIN="local", CGO_ENABLED="0")
        env.setdefault("GOCACHE", os.path.join(build_dir, "go", "cache"))
        log(f"building go peer with {go}")
        run_checked([go, "build", "-o", out, "."], cwd=src, env=env)
    return [out]


def peer_node(build_dir):
    node = tool("/usr/bin/node", "node", "nodejs")
    if not node:
        raise Skip("node not found (apt-get install nodejs)")
    ver = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    m = re.match(r"v(\d+)", ver)
    if not m or int(m.group(1)) < 16:
        raise Skip(f"node {ver} is too old (need >= 16 for top-level await and class fields)")
    return [node, os.path.join(PEERS_DIR, "node", "bench.mjs")]


def peer_asio(build_dir):
    cxx = tool("/usr/bin/g++", "g++")
    if not cxx:
        raise Skip("g++ not found (apt-get install g++)")
    if not os.path.exists("/usr/include/asio.hpp"):
        raise Skip("standalone asio not found (apt-get install libasio-dev)")
    src = os.path.join(PEERS_DIR, "asio", "bench.cpp")
    out = os.path.join(build_dir, "asio", "bench")
    if not newer_than_sources(out, [src]):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        log(f"building asio peer with {cxx}")
        run_checked([cxx, "-O2", "-std=c++20", "-pthread", "-o", out, src])
    return [out]


def peer_tokio(build_dir):
    # Prefer Debian's cargo/rustc over a rustup toolchain that may come first on PATH.
    cargo = tool("/usr/bin/cargo", "cargo")
    if not cargo:
        raise Skip("cargo not found (apt-get install cargo rustc)")
    if not any(d.startswith("tokio-1.") for d in (os.listdir(DEBIAN_REGISTRY) if os.path.isdir(DEBIAN_REGISTRY) else [])):
        raise Skip(f"no tokio crate in {DEBIAN_REGISTRY} (apt-get install librust-tokio-dev)")
    src = os.path.join(PEERS_DIR, "tokio")
    work = os.path.join(build_dir, "tokio")
    out = os.path.join(work, "target", "release", "tokio-bench")
    sources = [os.path.join(src, "Cargo.toml"), os.path.join(src, ".cargo", "config.toml")] + tree_files(os.path.join(src, "src"))
    if not newer_than_sources(out, sources):
        # Build a copy so Cargo.lock and target/ stay out of the source tree. The copied
        # .cargo/config.toml replaces crates.io with Debian's registry as a directory source.
        for sub in ("src", ".cargo"):
            shutil.rmtree(os.path.join(work, sub), ignore_errors=True)
            shutil.copytree(os.path.join(src, sub), os.path.join(work, sub))
        shutil.copy2(os.path.join(src, "Cargo.toml"), work)
        env = dict(os.environ, CARGO_NET_OFFLINE="true")
        if cargo == "/usr/bin/cargo" and os.path.exists("/usr/bin/rustc"):
            env["RUSTC"] = "/usr/bin/rustc"
        log(f"building tokio peer with {cargo} ({env.get('RUSTC', 'rustc on PATH')})")
        run_checked([cargo, "build", "--release", "--offline"], cwd=work, env=env)
    return [out]


PEERS = [
    ("asyncio", peer_asyncio),
    ("uvloop", peer_uvloop),
    ("go", peer_go),
    ("node", peer_node),
    ("asio", peer_asio),
    ("tokio", peer_tokio),
]


def install():
    cmd = ["apt-get"]
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            sys.exit("--install needs root or sudo")
        cmd = ["sudo"] + cmd
    pkgs = APT_PACKAGES + ([] if tool("/usr/bin/node", "node") else ["nodejs"])
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(cmd + ["update"], check=True, env=env)
    subprocess.run(cmd + ["install", "-y", "--no-install-recommends"] + pkgs, check=True, env=env)


def run_one(argv, workload, n, cpu, timeout):
    cmd = argv + [workload, str(n)]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout}s"
    lines = [l for l in p.stdout.splitlines() if l.strip().startswith("{")]
    if p.returncode != 0 or not lines:
        err = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"exit {p.returncode}: {err[:200]}"
    try:
        return json.loads(lines[-1]), None
    except json.JSONDecodeError as e:
        return None, f"bad JSON: {e}"


def fmt(v):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "bench-peers"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json-out", help="raw JSON lines of every run (default BUILD_DIR/results.jsonl)")
    ap.add_argument("--ours", action="append", default=[], metavar="PATH",
                    help="our bench binary (same CLI/JSON protocol); shown first; may be repeated")
    ap.add_argument("--quick", action="store_true", help="divide every N by 10 (smoke test)")
    ap.add_argument("--install", action="store_true", help="apt-get install the peer packages first")
    ap.add_argument("--peers", help="comma-separated subset of: " + ",".join(p for p, _ in PEERS))
    ap.add_argument("--workloads", help="comma-separated subset of: " + ",".join(WORKLOADS))
    ap.add_argument("--cpu", default="1", help="CPU to pin each run to with taskset ('none' to not pin)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds allowed per single run")
    args = ap.parse_args()

    if args.install:
        install()
    build_dir = os.path.abspath(args.build_dir)
    os.makedirs(build_dir, exist_ok=True)
    json_out = args.json_out or os.path.join(build_dir, "results.jsonl")
    workloads = args.workloads.split(",") if args.workloads else list(WORKLOADS)
    for w in workloads:
        if w not in WORKLOADS:
            sys.exit(f"unknown workload {w}")
    wanted = set(args.peers.split(",")) if args.peers else None
    cpu = None if args.cpu == "none" else args.cpu
    notes = []
    if cpu is not None and not shutil.which("taskset"):
        notes.append("taskset not found: runs are not pinned")
        cpu = None

    columns = []  # (label, argv)
    for i, path in enumerate(args.ours):
        label = "ours" if len(args.ours) == 1 else f"ours:{os.path.basename(path)}"
        if os.path.isfile(path) and os.access(path, os.X_OK):
            columns.append((label, [os.path.abspath(path)]))
        else:
            notes.append(f"{label}: skipped, {path} is not an executable file")
    for name, make in PEERS:
        if wanted is not None and name not in wanted:
            continue
        try:
            columns.append((name, make(build_dir)))
        except Skip as e:
            notes.append(f"{name}: skipped, {e}")
            log(f"skip {name}: {e}")

    ns = {w: max(1, WORKLOADS[w] // 10) if args.quick else WORKLOADS[w] for w in workloads}
    results = {}  # (label, workload) -> list of dicts
    t_start = time.monotonic()
    with open(json_out, "w") as jf:
        for r in range(args.runs):
            for w in workloads:
                for label, argv in columns:
                    res, err = run_one(argv, w, ns[w], cpu, args.timeout)
                    if err:
                        notes.append(f"{label} {w} run {r + 1}: {err}")
                        log(f"FAIL {label} {w}: {err}")
                        continue
                    res.update(column=label, run=r + 1)
                    jf.write(json.dumps(res) + "\n")
                    jf.flush()
                    results.setdefault((label, w), []).append(res)
                    log(f"run {r + 1}/{args.runs} {w:9s} {label:8s} {res.get('wall_ms', 0):10.1f} ms")

    labels = [l for l, _ in columns]
    print(f"N: " + ", ".join(f"{w}={ns[w]:,}" for w in workloads)
          + f"; median of {args.runs} run(s); pinned to CPU {cpu if cpu is not None else 'none'}\n")
    print("| workload: metric | " + " | ".join(labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for text, w, key, scale in ROWS:
        if w not in workloads:
            continue
        cells = []
        for l in labels:
            vals = [x[key] for x in results.get((l, w), []) if isinstance(x.get(key), (int, float))]
            cells.append(fmt(statistics.median(vals) * scale) if vals else None)
        print(f"| {text} | " + " | ".join(c or "—" for c in cells) + " |")
    print(f"\nraw JSON lines: {json_out}; total {time.monotonic() - t_start:.0f} s")
    for n in notes:
        print(f"- note: {n}")


if __name__ == "__main__":
    main()
