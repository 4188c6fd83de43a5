#!/usr/bin/env python3
"""Side-by-side HTTP/1.1 benchmarks: our server and client beside a minimal C responder and peers.

Server benchmark (default): `wrk -t1 -c100 -d5s --latency` against each server answering GET / with
{"message":"Hello, World!"}; requests/s, server CPU per request and p50/p99 latency.
Client benchmark (--client): each client program makes 20,000 GETs at concurrency 100 against the
C responder; requests/s and client CPU per request.

Server and client programs follow the protocols in bench/http/README.md. Standard library only;
shares its helpers with bench/echo/run_echo.py. Examples:

    python3 bench/http/run_http.py --quick
    python3 bench/http/run_http.py --ours build/release/bench/bench_http_server
    python3 bench/http/run_http.py --client --ours build/release/bench/bench_http_client
"""
import argparse
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "echo"))
import run_echo as echo  # noqa: E402  (the echo benchmark's driver, used as a module)
from run_echo import RunError, Skip, log, tool  # noqa: E402

BASELINE = "c_responder"
BODY = b'{"message":"Hello, World!"}'
OTHER_CPU_LIMIT = echo.OTHER_CPU_LIMIT


def disturbed(res):
    return res["other_cpu"] > OTHER_CPU_LIMIT + res.get("other_cpu_noise", 0.0)
# Processes whose presence means a build is running: measurements wait until they are gone.
COMPILER_NAMES = ("cc1", "cc1plus", "lto1", "collect2", "ld", "ld.lld", "ld.gold", "clang", "clang++", "rustc",
                  "cargo", "ninja", "make", "gmake", "cmake", "compile", "link", "asm", "as", "g++", "gcc", "c++")
APT_TOOLS = {"wrk": "wrk", "taskset": "util-linux", "cc": "gcc"}


class Missing(Skip):
    """A peer that cannot be built or run because Debian packages are missing (the message ends
    with the apt-get line, as run_echo's do; the driver collects the packages from it)."""

    def __init__(self, what, packages):
        super().__init__(f"{what} (apt-get install {' '.join(packages)})")


# ---- building -----------------------------------------------------------------------------------

def c_compiler():
    cc = tool("cc", "gcc", "clang")
    if not cc:
        raise Missing("no C compiler found", ["gcc"])
    return cc


def build_c_responder(build_dir):
    src = os.path.join(HERE, "c_responder.c")
    out = os.path.join(build_dir, "c_responder")
    echo.build_cmd(out, [src], [c_compiler(), "-O2", "-Wall", "-o", out, src], "c_responder")
    return out


def python_needs(*modules):
    """Checks that Debian's python3 can import `modules` (the benchmark uses Debian's packages)."""
    packages = {"uvloop": "python3-uvloop", "httptools": "python3-httptools", "aiohttp": "python3-aiohttp"}
    if not tool(echo.SYS_PYTHON):
        raise Missing(f"{echo.SYS_PYTHON} not found", ["python3"])
    if subprocess.run([echo.SYS_PYTHON, "-c", "import asyncio; asyncio.Runner"], capture_output=True).returncode:
        raise Skip(f"{echo.SYS_PYTHON} has no asyncio.Runner (needs Python >= 3.11)")
    missing = [m for m in modules
               if subprocess.run([echo.SYS_PYTHON, "-c", f"import {m}"], capture_output=True).returncode]
    if missing:
        raise Missing(f"{', '.join(missing)} not importable by {echo.SYS_PYTHON}", [packages[m] for m in missing])


def python_program(script, *modules):
    def make(build_dir):
        python_needs(*modules)
        return [echo.SYS_PYTHON, os.path.join(HERE, script)], {}
    return make


def go_program(package, name):
    def make(build_dir):
        go = tool("/usr/bin/go", "go")
        if not go:
            raise Missing("go not found", ["golang"])
        out = os.path.join(build_dir, "go", name)
        echo.build_go(go, os.path.join(HERE, "go"), out, os.path.join(build_dir, "go", "cache"), name, package)
        return [out], {"GOMAXPROCS": "1"}
    return make


def server_node(build_dir):
    node = tool("/usr/bin/node", "node", "nodejs")
    if not node:
        raise Missing("node not found", ["nodejs"])
    return [node, os.path.join(HERE, "node_server.mjs")], {}


def beast_program(name, json_header=False):
    def make(build_dir):
        cxx = tool("/usr/bin/g++", "g++")
        if not cxx:
            raise Missing("g++ not found", ["g++"])
        if not os.path.exists("/usr/include/boost/beast.hpp"):
            raise Missing("Boost.Beast not found", ["libboost-dev"])
        if json_header and not os.path.exists("/usr/include/nlohmann/json.hpp"):
            raise Missing("nlohmann/json.hpp not found", ["nlohmann-json3-dev"])
        src = os.path.join(HERE, name + ".cpp")
        out = os.path.join(build_dir, "beast", name)
        echo.build_cmd(out, [src], [cxx, "-O2", "-std=c++20", "-pthread", "-o", out, src], name)
        return [out], {}
    return make


def hyper_program(name):
    def make(build_dir):
        echo.cargo_tool()
        have = os.listdir(echo.DEBIAN_REGISTRY) if os.path.isdir(echo.DEBIAN_REGISTRY) else []
        missing = [pkg for prefix, pkg in (("hyper-0.14.", "librust-hyper-dev"), ("tokio-1.", "librust-tokio-dev"))
                   if not any(d.startswith(prefix) for d in have)]
        if missing:
            raise Missing(f"hyper 0.14 or tokio 1 missing in {echo.DEBIAN_REGISTRY}", missing)
        work = os.path.join(build_dir, "hyper")
        outs = [os.path.join(work, "target", "release", b) for b in ("hyper-server", "hyper-client")]
        echo.build_cargo(os.path.join(HERE, "hyper"), work, outs, "hyper programs")
        return [os.path.join(work, "target", "release", name)], {}
    return make


SERVERS = [
    (BASELINE, lambda build_dir: ([build_c_responder(build_dir)], {})),
    ("httptools", python_program("httptools_server.py", "httptools", "uvloop")),
    ("aiohttp", python_program("aiohttp_server.py", "aiohttp", "uvloop")),
    ("go", go_program("./server", "http-go-server")),
    ("node", server_node),
    ("beast", beast_program("beast_server", json_header=True)),
    ("hyper", hyper_program("hyper-server")),
]

CLIENTS = [
    ("aiohttp", python_program("aiohttp_client.py", "aiohttp", "uvloop")),
    ("go", go_program("./client", "http-go-client")),
    ("hyper", hyper_program("hyper-client")),
    ("beast", beast_program("beast_client")),
]


def install(packages):
    cmd = ["apt-get"]
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            sys.exit("--install needs root or sudo")
        cmd = ["sudo"] + cmd
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(cmd + ["update"], check=True, env=env)
    subprocess.run(cmd + ["install", "-y", "--no-install-recommends"] + packages, check=True, env=env)


ALL_PACKAGES = ["wrk", "gcc", "g++", "python3-httptools", "python3-uvloop", "python3-aiohttp", "golang", "nodejs",
                "libboost-dev", "nlohmann-json3-dev", "librust-hyper-dev", "librust-tokio-dev", "cargo", "rustc"]


# ---- waiting for a quiet machine ----------------------------------------------------------------

def running_compilers():
    names = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in COMPILER_NAMES or comm.startswith(("clang-", "clang++-", "g++-", "gcc-", "cc1")):
            names.add(comm)
    return names


def wait_idle(max_wait):
    """Waits until no compiler, linker or build tool runs and the machine uses < 0.1 cores for a
    second (run_echo's idle test). Returns "" when idle, else what was still busy at the time-out."""
    deadline = time.monotonic() + max_wait
    while True:
        busy = running_compilers()
        if not busy and echo.wait_quiet(0):
            return ""
        if time.monotonic() >= deadline:
            load = os.getloadavg()[0]
            return f"builds running ({', '.join(sorted(busy))})" if busy else f"machine busy (1-min load {load:.2f})"
        time.sleep(2 if busy else 0)


# ---- checking a server's answer -----------------------------------------------------------------

def read_response(sock, buf):
    """Reads one HTTP/1.1 response from `sock` (`buf` holds bytes already read); returns
    (status, headers dict with lower-case names, body, response length, rest of buf)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RunError(f"connection closed before a complete response head ({len(buf)} bytes read)")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    head_len = len(head) + 4
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        raise RunError(f"bad status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()

    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = sock.recv(65536)
            if not chunk:
                raise RunError("connection closed inside a response body")
            buf += chunk

    if "content-length" in headers:
        n = int(headers["content-length"])
        need(n)
        body, buf, total = buf[:n], buf[n:], head_len + n
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body, total = b"", head_len
        while True:
            while b"\r\n" not in buf:
                need(len(buf) + 1)
            size_line, rest = buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            buf = rest
            need(size + 2)
            body += buf[:size]
            total += len(size_line) + 2 + size + 2
            buf = buf[size + 2:]
            if size == 0:
                break
    else:
        raise RunError("response has neither Content-Length nor chunked framing")
    return int(m.group(1)), headers, body, total, buf


def check_server(port, path="/"):
    """Two pipelined GETs then a third on the same connection: each must be 200, application/json,
    the expected body, and keep the connection open. Returns the length of one response in bytes."""
    req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(req + req)
        buf, sizes = b"", []
        for i in range(3):
            if i == 2:
                sock.sendall(req)
            status, headers, body, size, buf = read_response(sock, buf)
            which = ["first pipelined", "second pipelined", "keep-alive"][i]
            if status != 200:
                raise RunError(f"{which} response: status {status}, expected 200")
            if body != BODY:
                raise RunError(f"{which} response: body {body[:80]!r}, expected {BODY.decode()}")
            if not headers.get("content-type", "").startswith("application/json"):
                raise RunError(f"{which} response: Content-Type {headers.get('content-type')!r}")
            if headers.get("connection", "").lower() == "close":
                raise RunError(f"{which} response: Connection: close")
            sizes.append(size)
    return max(sizes)


# ---- server benchmark ---------------------------------------------------------------------------

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def parse_wrk(out):
    def num(pattern, conv=float):
        m = re.search(pattern, out, re.M)
        return conv(m.group(1)) if m else None

    res = {"requests": num(r"^\s*(\d+) requests in", int), "rps": num(r"^Requests/sec:\s*([\d.]+)")}
    m = re.search(r"requests in ([\d.]+)(us|ms|s|m),", out)
    res["duration"] = float(m.group(1)) * UNITS[m.group(2)] / 1e3 if m else None
    for pct in (50, 75, 90, 99):
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        res[f"p{pct}_ms"] = float(m.group(1)) * UNITS[m.group(2)] if m else None
    res["non_2xx"] = num(r"Non-2xx or 3xx responses:\s*(\d+)", int) or 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups()))) if m else {}
    if res["requests"] is None or res["rps"] is None or res["p99_ms"] is None:
        raise RunError(f"cannot read wrk's output: {out.strip()[-300:]!r}")
    return res


def run_wrk(wrk, server, conns, seconds, cpu, path="/"):
    """One wrk run; server CPU, machine busy time and time are sampled when wrk starts and when it has
    exited (wrk's own CPU time comes from wait4)."""
    cmd = (["taskset", "-c", cpu] if cpu is not None else []) + [
        wrk, "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{server.port}{path}"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    srv0, all0, t0 = echo.cpu_seconds(server.pid), echo.machine_busy_seconds(), time.monotonic()
    killer = threading.Timer(seconds + 60, p.kill)
    killer.start()
    try:
        _, status, usage = os.wait4(p.pid, 0)
    finally:
        killer.cancel()
    srv1, all1, t1 = echo.cpu_seconds(server.pid), echo.machine_busy_seconds(), time.monotonic()
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: keep Popen from waiting again
    out = p.stdout.read().decode(errors="replace")
    p.stdout.close()
    server.check_alive()
    if p.returncode != 0:
        raise RunError(f"wrk exit {p.returncode}: {out.strip()[-300:]}")
    res = parse_wrk(out)
    if res["non_2xx"]:
        raise RunError(f"{res['non_2xx']} responses were not 2xx or 3xx")
    wall, wrk_cpu = t1 - t0, usage.ru_utime + usage.ru_stime
    res.update(wall=wall, server_cpu_s=srv1 - srv0, server_cpu_us_per_req=(srv1 - srv0) * 1e6 / res["requests"],
               server_cpu_busy=(srv1 - srv0) / wall, wrk_cpu_busy=wrk_cpu / wall,
               other_cpu=max(0.0, (all1 - all0) - (srv1 - srv0) - wrk_cpu) / wall)
    return res


def measure_server(wrk, server, conns, seconds, prime, cpu, path):
    response_bytes = check_server(server.port, path)
    if prime:
        run_wrk(wrk, server, conns, prime, cpu, path)
    res = run_wrk(wrk, server, conns, seconds, cpu, path)
    res["response_bytes"] = response_bytes
    return res


# ---- client benchmark ---------------------------------------------------------------------------

def cpu_seconds_precise(pid):
    """CPU time of all live threads of `pid` from /proc/PID/task/*/schedstat (nanoseconds), for
    windows too short for the 10 ms ticks of /proc/PID/stat; falls back to those ticks."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # the thread ended meanwhile
    except OSError:
        total = 0
    return total / 1e9 if total else echo.cpu_seconds(pid)


def run_client(argv, env, responder, requests, conc, cpu, log_dir, label):
    """One client run (protocol in README.md); CPU of the client and of the responder is sampled
    while the client waits on stdin, before and after its requests."""
    err_path = os.path.join(log_dir, f"client-{label}.stderr")
    cmd = (["taskset", "-c", cpu] if cpu is not None else []) + argv + [str(responder.port), str(requests), str(conc)]
    with open(err_path, "w") as err:
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=dict(os.environ, **env))
    lines = echo.Lines(p.stdout)
    try:
        line = lines.readline(60)
        if not line or line.strip() != "ready":
            raise RunError(f"no 'ready' from the client (got {line!r}); stderr: {echo.tail(err_path)}")
        c0, r0, all0, t0 = cpu_seconds_precise(p.pid), cpu_seconds_precise(responder.pid), \
            echo.machine_busy_seconds(), time.monotonic()
        p.stdin.write(b"go\n")
        p.stdin.flush()
        line = lines.readline(requests / 100 + 120)
        if not line or not line.startswith("{"):
            time.sleep(0.2)
            raise RunError(f"no result from the client (got {line!r}); stderr: {echo.tail(err_path)}")
        c1, r1, all1, t1 = cpu_seconds_precise(p.pid), cpu_seconds_precise(responder.pid), \
            echo.machine_busy_seconds(), time.monotonic()
        res = json.loads(line)
    finally:
        try:
            p.stdin.close()
        except OSError:
            pass
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stdout.close()
    responder.check_alive()
    if res.get("failed") or p.returncode != 0:
        raise RunError(f"client exit {p.returncode}, {res.get('failed')} failed requests; stderr: {echo.tail(err_path)}")
    if res.get("requests") != requests:
        raise RunError(f"client reports {res.get('requests')} requests, expected {requests}")
    wall = t1 - t0
    res.update(rps=requests / res["seconds"], wall=wall, client_cpu_s=c1 - c0,
               client_cpu_us_per_req=(c1 - c0) * 1e6 / requests, client_cpu_busy=(c1 - c0) / wall,
               responder_cpu_busy=(r1 - r0) / wall,
               other_cpu=max(0.0, (all1 - all0) - (c1 - c0) - (r1 - r0)) / wall,
               # /proc/stat counts 10 ms ticks per CPU: in a short window a few ticks are noise.
               other_cpu_noise=3 / echo.CLK_TCK / wall)
    return res


# ---- driver -------------------------------------------------------------------------------------

def ours_programs(paths, wanted, notes):
    out = []
    for path in paths:
        label = "ours" if len(paths) == 1 else f"ours:{os.path.basename(path.split()[0])}"
        if wanted is not None and "ours" not in wanted and label not in wanted:
            continue
        argv = [os.path.abspath(path)] if os.path.isfile(path) else shlex.split(path)
        if not argv or not tool(argv[0]):
            notes.append(f"{label}: skipped, {path} is not an executable file")
            continue
        out.append((label, argv, {}))
    return out


def peer_programs(table, build_dir, wanted, notes, missing):
    out = []
    for name, make in table:
        if wanted is not None and name not in wanted:
            continue
        try:
            argv, env = make(build_dir)
            out.append((name, argv, env))
        except Skip as e:
            notes.append(f"{name}: skipped, {e}")
            log(f"skip {name}: {e}")
            m = re.search(r"\(apt-get install ([^)]*)\)", str(e))
            missing.update(m.group(1).split() if m else [])
    return out


def measured(label, what, args, notes, record, attempt_fn):
    """Runs attempt_fn() until a window is undisturbed by other processes (at most 1 + --retries
    times); records every attempt and returns the least disturbed one, or None."""
    best, attempts = None, []
    for attempt in range(1 + args.retries):
        if args.idle_wait > 0:
            busy = wait_idle(args.idle_wait)
            if busy:
                notes.append(f"{label} {what}: {busy} after waiting {args.idle_wait:.0f} s; measured anyway")
                log(f"{busy}: measuring {label} anyway")
        try:
            res = attempt_fn()
        except (RunError, OSError) as e:
            notes.append(f"{label} {what}: {e}")
            log(f"FAIL {label} {what}: {e}")
            break
        res.update(attempt=attempt + 1, loadavg1=os.getloadavg()[0])
        attempts.append(res)
        if best is None or res["other_cpu"] < best["other_cpu"]:
            best = res
        if not disturbed(res):
            break
        log("  other processes were busy during the window; "
            + ("measuring again" if attempt < args.retries else "keeping the least disturbed run"))
    for a in attempts:
        a["kept"] = a is best
        record(a)
    if best is not None and disturbed(best):
        notes.append(f"{label} {what}: other processes used {best['other_cpu']:.2f} cores during the window; marked †")
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--client", action="store_true",
                    help="the client benchmark (client programs against the C responder) instead of the server one")
    ap.add_argument("--ours", action="append", default=[], metavar="PATH",
                    help="our server (or with --client our client program); shown first; may be repeated")
    ap.add_argument("--seconds", type=int, help="wrk's duration per measured run (default 5)")
    ap.add_argument("--connections", type=int, help="wrk's connections (default 100)")
    ap.add_argument("--path", default="/", help="path requested from the servers (default /)")
    ap.add_argument("--requests", type=int, help="--client: requests per client run (default 20000)")
    ap.add_argument("--concurrency", type=int, help="--client: concurrent requests (default 100)")
    ap.add_argument("--runs", type=int, default=1, help="runs per program; the median is shown")
    ap.add_argument("--prime", type=int, default=1, metavar="SECONDS",
                    help="length of the discarded wrk run before each measured one (default 1; 0: none)")
    ap.add_argument("--idle-wait", type=float, default=300, metavar="SECONDS",
                    help="before each run wait up to this long for builds to end and the machine to be idle "
                         "(default 300; 0: never)")
    ap.add_argument("--retries", type=int, default=2,
                    help="measure again (up to this many times) when other processes disturbed a window")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 2 s and 25 connections; --client: 2,000 requests at concurrency 25")
    ap.add_argument("--only", help="comma-separated subset of: ours," + ",".join(
        sorted({n for n, _ in SERVERS} | {n for n, _ in CLIENTS})))
    ap.add_argument("--json-out", help="raw JSON lines of every run (default BUILD_DIR/results.jsonl, "
                                       "with --client BUILD_DIR/results-client.jsonl)")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "bench-http"))
    ap.add_argument("--server-cpu", default="1", help="CPU for servers (taskset -c; 'none' to not pin)")
    ap.add_argument("--client-cpu", default="0", help="CPU for wrk and the client programs (taskset -c; 'none')")
    ap.add_argument("--install", action="store_true", help="apt-get install wrk and the peer packages first")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.install:
        install(ALL_PACKAGES)
    seconds = args.seconds or (2 if args.quick else 5)
    conns = args.connections or (25 if args.quick else 100)
    requests = args.requests or (2000 if args.quick else 20000)
    conc = args.concurrency or (25 if args.quick else 100)
    build_dir = os.path.abspath(args.build_dir)
    log_dir = os.path.join(build_dir, "logs")
    os.makedirs(log_dir, exist_ok=True)
    json_out = args.json_out or os.path.join(build_dir, "results-client.jsonl" if args.client else "results.jsonl")
    wanted = set(args.only.split(",")) if args.only else None
    notes, missing = [], set()
    server_cpu = None if args.server_cpu == "none" else args.server_cpu
    client_cpu = None if args.client_cpu == "none" else args.client_cpu

    # The tools the driver itself needs.
    need = {"cc": tool("cc", "gcc", "clang"), "taskset": shutil.which("taskset")}
    if not args.client:
        need["wrk"] = tool("/usr/bin/wrk", "wrk")
    absent = [APT_TOOLS[k] for k, v in need.items() if not v]
    if absent:
        sys.exit(f"missing tools; install them with: apt-get install {' '.join(absent)}")
    wrk = need.get("wrk")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    table = CLIENTS if args.client else SERVERS
    programs = ours_programs(args.ours, wanted, notes)
    if args.client:
        try:
            responder_argv = [build_c_responder(build_dir)]
        except Skip as e:
            sys.exit(f"cannot build c_responder: {e}")
    programs += peer_programs(table, build_dir, wanted, notes, missing)
    labels = [p[0] for p in programs]
    pinning = (f"{'client programs' if args.client else 'wrk'} on CPU {client_cpu or 'any'}, "
               f"{'the C responder' if args.client else 'servers'} on CPU {server_cpu or 'any'}")
    log(f"1-min load {os.getloadavg()[0]:.2f}; {pinning}")

    results = {}  # label -> list of kept results
    t_start = time.monotonic()
    with open(json_out, "w") as jf:
        def record(res):
            jf.write(json.dumps(res) + "\n")
            jf.flush()

        for r in range(args.runs):
            for label, argv, env in programs:
                if args.client:
                    def attempt():
                        responder = echo.Server(BASELINE, responder_argv, {}, server_cpu, log_dir)
                        try:
                            check_server(responder.port)
                            res = run_client(argv, env, responder, requests, conc, client_cpu, log_dir, label)
                        finally:
                            responder.stop()
                        res.update(client=label, test="client", run=r + 1)
                        log(f"run {r + 1}/{args.runs} {label:12s} {res['rps']:9,.0f} req/s "
                            f"{res['client_cpu_us_per_req']:7.2f} µs/req  client CPU {res['client_cpu_busy']:4.0%}"
                            f"  responder CPU {res['responder_cpu_busy']:4.0%}  other {res['other_cpu']:.2f} cores")
                        return res
                else:
                    def attempt():
                        server = echo.Server(label, argv, env, server_cpu, log_dir)
                        try:
                            res = measure_server(wrk, server, conns, seconds, args.prime, client_cpu, args.path)
                        finally:
                            server.stop()
                        res.update(server=label, test="server", run=r + 1)
                        log(f"run {r + 1}/{args.runs} {label:12s} {res['rps']:9,.0f} req/s "
                            f"{res['server_cpu_us_per_req']:7.2f} µs/req  p50 {res['p50_ms']:.2f} ms  "
                            f"p99 {res['p99_ms']:.2f} ms  server CPU {res['server_cpu_busy']:4.0%}  "
                            f"wrk CPU {res['wrk_cpu_busy']:4.0%}  other {res['other_cpu']:.2f} cores")
                        if any(res["socket_errors"].values()):
                            notes.append(f"{label} run {r + 1}: wrk socket errors {res['socket_errors']}")
                        return res
                best = measured(label, f"run {r + 1}", args, notes, record, attempt)
                if best is not None:
                    results.setdefault(label, []).append(best)

    def med(label, key):
        vals = [x[key] for x in results.get(label, []) if x.get(key) is not None]
        return statistics.median(vals) if vals else None

    def marked(label):
        return " †" if any(disturbed(x) for x in results.get(label, [])) else ""

    def ratio(label, key):
        return echo.ratio_cell(med(label, key), med(BASELINE, key))

    if args.client:
        head = (f"{requests:,} GETs of / per client at concurrency {conc} (keep-alive pool) against {BASELINE}, "
                f"connections opened inside the window; median of {args.runs} run(s); {pinning}.")
        # No C client to compare with: the ratios are to ours when it was measured.
        base = next((label for label in labels if label.startswith("ours") and label in results), None)

        def cell(label, key):
            if label not in results:
                return "—"
            if key == "busy":
                return f"{med(label, 'client_cpu_busy'):.0%} / {med(label, 'responder_cpu_busy'):.0%}{marked(label)}"
            return echo.ratio_cell(med(label, key), med(base, key) if base else None)

        print(head + "\n")
        echo.print_table(f"## HTTP client: {requests:,} requests, concurrency {conc}"
                         + (f"; ratio to {base} in parentheses" if base else "")
                         + f" († = other processes used > {OTHER_CPU_LIMIT} cores meanwhile)", labels,
                         [("requests/s", "rps"), ("client CPU µs/request", "client_cpu_us_per_req"),
                          ("CPU busy: client / responder", "busy")], cell, first="client")
    else:
        head = (f"wrk -t1 -c{conns} -d{seconds}s --latency, GET {args.path}, keep-alive; "
                + (f"after a {args.prime} s priming run; " if args.prime else "")
                + f"median of {args.runs} run(s); {pinning}.")
        columns = [("requests/s", "rps"), ("server CPU µs/request", "server_cpu_us_per_req"),
                   ("p50 latency, ms", "p50_ms"), ("p99 latency, ms", "p99_ms")]
        print(head + "\n")
        echo.print_table(f"## HTTP server: ratio to {BASELINE} in parentheses (requests/s: higher is better; "
                         "the others: lower is better)", labels, columns, ratio)

        def detail(label, key):
            if label not in results:
                return "—"
            if key == "busy":
                return f"{med(label, 'server_cpu_busy'):.0%} / {med(label, 'wrk_cpu_busy'):.0%}{marked(label)}"
            return f"{results[label][0]['response_bytes']}"

        echo.print_table(f"## CPU busy during the window: server / wrk (100% = one core; † = other processes "
                         f"used > {OTHER_CPU_LIMIT} cores meanwhile), and the size of one response",
                         labels, [("server / wrk CPU", "busy"), ("response bytes", "size")], detail)
    print(f"raw JSON lines: {json_out}; stderr of the programs: {log_dir}; total {time.monotonic() - t_start:.0f} s")
    for n in notes:
        print(f"- note: {n}")
    if missing:
        print(f"- missing packages: apt-get install {' '.join(sorted(missing))}")


if __name__ == "__main__":
    main()
