#!/usr/bin/env python3
"""Side-by-side TCP echo benchmark: our echo server, a hand-written C epoll server, and peers.

Every server is a program taking `PORT` that listens on 127.0.0.1:PORT, prints `ready` on stdout
and echoes every byte back (with `PORT --tls CERT KEY`: over TLS); see bench/echo/README.md.
Standard library only. Examples:

    python3 bench/echo/run_echo.py --quick
    python3 bench/echo/run_echo.py --tls --quick
    python3 bench/echo/run_echo.py --ours build/release/examples/echo_server
    python3 bench/echo/run_echo.py --c10k 10000
"""
import argparse
import json
import os
import re
import resource
import select
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
SYS_PYTHON = "/usr/bin/python3"  # Debian's python (python3 on PATH may be a pyenv one)
DEBIAN_REGISTRY = "/usr/share/cargo/registry"
APT_PACKAGES = ["python3-uvloop", "golang", "libasio-dev", "librust-tokio-dev", "cargo", "rustc", "gcc", "g++",
                "libssl-dev", "openssl"]
# With OpenSSL's headers, loadgen, c_server and the Asio server are built with TLS support.
HAVE_OPENSSL = os.path.exists("/usr/include/openssl/ssl.h")
TLS_FLAGS = ["-DECHO_TLS"] if HAVE_OPENSSL else []
TLS_LIBS = ["-lssl", "-lcrypto"] if HAVE_OPENSSL else []
TOKIO_TLS_CRATES = ("tokio-openssl-", "tokio-native-tls-", "tokio-rustls-")
CLK_TCK = os.sysconf("SC_CLK_TCK")
BASELINE = "c_server"
OTHER_CPU_LIMIT = 0.15  # cores used by unrelated processes during a window before it is flagged


class Skip(Exception):
    """A server that cannot be built or run here; reported as a note."""


class RunError(Exception):
    """One measurement failed; reported as a note, the other measurements go on."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def tool(*candidates):
    for c in candidates:
        p = c if os.path.isabs(c) else shutil.which(c)
        if p and os.access(p, os.X_OK):
            return p
    return None


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


def up_to_date(target, sources, cmd):
    """Whether `target` is newer than `sources` and was built by the same command."""
    try:
        with open(target + ".cmd") as f:
            same = f.read() == " ".join(cmd)
    except OSError:
        same = False
    return same and newer_than_sources(target, sources)


def build_cmd(target, sources, cmd, what):
    if not up_to_date(target, sources, cmd):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        log(f"building {what} with {cmd[0]}")
        run_checked(cmd)
        with open(target + ".cmd", "w") as f:
            f.write(" ".join(cmd))


def build_c(build_dir, name):
    cc = tool("cc", "gcc", "clang")
    if not cc:
        raise Skip("no C compiler found (apt-get install gcc)")
    src = os.path.join(HERE, name + ".c")
    out = os.path.join(build_dir, name)
    build_cmd(out, [src], [cc, "-O2", "-Wall", *TLS_FLAGS, "-o", out, src, *TLS_LIBS], name)
    return out


def make_certificate(build_dir):
    """A self-signed EC P-256 certificate for localhost/127.0.0.1 in BUILD_DIR/tls: (cert, key)."""
    openssl = tool("/usr/bin/openssl", "openssl")
    if not openssl:
        sys.exit("--tls needs the openssl command (apt-get install openssl)")
    d = os.path.join(build_dir, "tls")
    os.makedirs(d, exist_ok=True)
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    run = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                          "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=localhost",
                          "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if run.returncode != 0:
        sys.exit(f"openssl req failed (exit {run.returncode}):\n{run.stdout.strip()}")
    return cert, key


# ---- servers: each returns (argv, extra environment) or raises Skip -----------------------------

def python_server(script, uvloop):
    def make(build_dir):
        if not tool(SYS_PYTHON):
            raise Skip(f"{SYS_PYTHON} not found (apt-get install python3)")
        if subprocess.run([SYS_PYTHON, "-c", "import asyncio; asyncio.Runner"], capture_output=True).returncode:
            raise Skip(f"{SYS_PYTHON} has no asyncio.Runner (needs Python >= 3.11)")
        argv = [SYS_PYTHON, os.path.join(HERE, script)]
        if uvloop:
            if subprocess.run([SYS_PYTHON, "-c", "import uvloop"], capture_output=True).returncode:
                raise Skip("uvloop not importable by /usr/bin/python3 (apt-get install python3-uvloop)")
            argv.append("--uvloop")
        return argv, {}
    return make


def server_c(build_dir):
    return [build_c(build_dir, "c_server")], {}


def server_go(build_dir):
    go = tool("/usr/bin/go", "go")
    if not go:
        raise Skip("go not found (apt-get install golang)")
    out = os.path.join(build_dir, "go", "echo-go")
    build_go(go, os.path.join(HERE, "go"), out, os.path.join(build_dir, "go", "cache"), "go server")
    return [out], {"GOMAXPROCS": "1"}


def build_go(go, module_dir, out, cache, what, package="."):
    """`go build` of `package` in the dependency-free module `module_dir`, offline, unless `out` is newer."""
    if not newer_than_sources(out, tree_files(module_dir)):
        env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GOTOOLCHAIN="local", CGO_ENABLED="0")
        env.setdefault("GOCACHE", cache)
        log(f"building {what} with {go}")
        run_checked([go, "build", "-o", out, package], cwd=module_dir, env=env)


def server_node(build_dir):
    node = tool("/usr/bin/node", "node", "nodejs")
    if not node:
        raise Skip("node not found (apt-get install nodejs)")
    ver = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    m = re.match(r"v(\d+)", ver)
    if not m or int(m.group(1)) < 14:
        raise Skip(f"node {ver} is too old (need >= 14 for node: imports in ES modules)")
    return [node, os.path.join(HERE, "node_server.mjs")], {}


def server_asio(build_dir):
    cxx = tool("/usr/bin/g++", "g++")
    if not cxx:
        raise Skip("g++ not found (apt-get install g++)")
    if not os.path.exists("/usr/include/asio.hpp"):
        raise Skip("standalone asio not found (apt-get install libasio-dev)")
    src = os.path.join(HERE, "asio_server.cpp")
    out = os.path.join(build_dir, "asio", "asio_server")
    build_cmd(out, [src], [cxx, "-O2", "-std=c++20", "-pthread", *TLS_FLAGS, "-o", out, src, *TLS_LIBS],
              "asio server")
    return [out], {}


def server_tokio(build_dir, tls=False):
    if tls:
        have = [d for d in (os.listdir(DEBIAN_REGISTRY) if os.path.isdir(DEBIAN_REGISTRY) else [])
                if d.startswith(TOKIO_TLS_CRATES)]
        if not have:
            raise Skip(f"no TLS crate for Tokio (tokio-openssl, tokio-native-tls, tokio-rustls) in {DEBIAN_REGISTRY}")
        raise Skip(f"no TLS variant of the Tokio server yet ({', '.join(have)} would do)")
    cargo_tool()
    if not any(d.startswith("tokio-1.") for d in (os.listdir(DEBIAN_REGISTRY) if os.path.isdir(DEBIAN_REGISTRY) else [])):
        raise Skip(f"no tokio crate in {DEBIAN_REGISTRY} (apt-get install librust-tokio-dev)")
    work = os.path.join(build_dir, "tokio")
    build_cargo(os.path.join(HERE, "tokio"), work, [os.path.join(work, "target", "release", "tokio-echo")],
                "tokio server")
    return [os.path.join(work, "target", "release", "tokio-echo")], {}


def cargo_tool():
    # Prefer Debian's cargo/rustc over a rustup toolchain that may come first on PATH.
    cargo = tool("/usr/bin/cargo", "cargo")
    if not cargo:
        raise Skip("cargo not found (apt-get install cargo rustc)")
    return cargo


def build_cargo(src, work, outputs, what):
    """An offline release build of the crate in `src` (with its .cargo/config.toml) in a copy at
    `work`, unless every path in `outputs` is newer than the sources."""
    cargo = cargo_tool()
    sources = [os.path.join(src, "Cargo.toml"), os.path.join(src, ".cargo", "config.toml")] + tree_files(os.path.join(src, "src"))
    if not all(newer_than_sources(out, sources) for out in outputs):
        # Build a copy so Cargo.lock and target/ stay out of the source tree. The copied
        # .cargo/config.toml replaces crates.io with Debian's registry as a directory source.
        for sub in ("src", ".cargo"):
            shutil.rmtree(os.path.join(work, sub), ignore_errors=True)
            shutil.copytree(os.path.join(src, sub), os.path.join(work, sub))
        shutil.copy2(os.path.join(src, "Cargo.toml"), work)
        env = dict(os.environ, CARGO_NET_OFFLINE="true")
        if cargo == "/usr/bin/cargo" and os.path.exists("/usr/bin/rustc"):
            env["RUSTC"] = "/usr/bin/rustc"
        log(f"building {what} with {cargo} ({env.get('RUSTC', 'rustc on PATH')})")
        run_checked([cargo, "build", "--release", "--offline", "-j2"], cwd=work, env=env)


SERVERS = [
    (BASELINE, server_c),
    ("asyncio_streams", python_server("asyncio_streams.py", False)),
    ("asyncio_protocol", python_server("asyncio_protocol.py", False)),
    ("uvloop_streams", python_server("asyncio_streams.py", True)),
    ("uvloop_protocol", python_server("asyncio_protocol.py", True)),
    ("go", server_go),
    ("node", server_node),
    ("asio", server_asio),
    ("tokio", server_tokio),
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


# ---- /proc readings -----------------------------------------------------------------------------

def cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


def machine_busy_seconds():
    """CPU seconds all CPUs spent busy since boot (/proc/stat: user nice system . . irq softirq steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK


def wait_quiet(max_wait, threshold=0.1, sample=1.0):
    """Waits until the machine as a whole uses less than `threshold` cores; False on time-out."""
    deadline = time.monotonic() + max_wait
    while True:
        b0, t0 = machine_busy_seconds(), time.monotonic()
        time.sleep(sample)
        if (machine_busy_seconds() - b0) / (time.monotonic() - t0) < threshold:
            return True
        if time.monotonic() >= deadline:
            return False


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def listening_inodes(port):
    inodes = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                inodes.add(cols[9])
    return inodes


def owns_listener(pid, port):
    want = {f"socket:[{i}]" for i in listening_inodes(port)}
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) in want:
                return True
        except OSError:
            pass
    return False


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            raise RunError(f"port {port} on 127.0.0.1 is busy ({e.strerror})")


# ---- processes ----------------------------------------------------------------------------------

class Lines:
    """Line reader over a pipe with a timeout per line."""

    def __init__(self, pipe):
        self.fd = pipe.fileno()
        self.buf = b""
        self.eof = False

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf and not self.eof:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            self.buf += chunk
            self.eof = not chunk
        if b"\n" not in self.buf:
            line, self.buf = self.buf, b""
            return line.decode(errors="replace") if line else ""
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace") + "\n"


def tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().strip().splitlines()
    except OSError:
        return ""
    return " | ".join(lines[-n:])


class Server:
    def __init__(self, name, argv, env, cpu, log_dir, extra_args=()):
        self.name = name
        self.port = free_port()
        check_port_free(self.port)
        self.err_path = os.path.join(log_dir, f"{name}.stderr")
        self.err = open(self.err_path, "w")
        cmd = (["taskset", "-c", cpu] if cpu is not None else []) + argv + [str(self.port)] + list(extra_args)
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.err,
                                  env=dict(os.environ, **env))
        self.pid = self.p.pid  # taskset execs the program, so this is the server itself
        try:
            self._wait_ready(30)
            if not owns_listener(self.pid, self.port):
                raise RunError(f"port {self.port} is not listened on by the started process "
                               "(busy port, or the program forks instead of exec'ing?)")
        except BaseException:
            self.stop()
            raise
        # Keep draining stdout so that later output can never block the server.
        threading.Thread(target=self._drain, daemon=True).start()

    def _wait_ready(self, timeout):
        lines = Lines(self.p.stdout)
        deadline = time.monotonic() + timeout
        while True:
            line = lines.readline(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise RunError(f"no 'ready' within {timeout} s; stderr: {tail(self.err_path)}")
            if line == "":
                rc = self.p.wait()
                self.err.flush()
                raise RunError(f"exited with {rc} before 'ready'; stderr: {tail(self.err_path)}")
            if line.strip() == "ready":
                return

    def _drain(self):
        try:
            while os.read(self.p.stdout.fileno(), 65536):
                pass
        except (OSError, ValueError):
            pass

    def check_alive(self):
        if self.p.poll() is not None:
            raise RunError(f"server exited with {self.p.returncode} during the run; stderr: {tail(self.err_path)}")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.err.close()


def start_loadgen(args, cpu, **kw):
    cmd = (["taskset", "-c", cpu] if cpu is not None else []) + args
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def finish_loadgen(p, timeout=30):
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    return p.returncode, err.decode(errors="replace").strip()


# ---- measurements -------------------------------------------------------------------------------

def prime(server, loadgen, conns, size, seconds, cpu):
    """A discarded loadgen run whose connections are then closed (see README: priming)."""
    p = start_loadgen(loadgen + ["127.0.0.1", str(server.port), str(conns), str(size), str(seconds)], cpu)
    rc, err = finish_loadgen(p, seconds + 90)
    server.check_alive()
    if rc != 0:
        raise RunError(f"priming run: loadgen exit {rc}: {err.splitlines()[-1] if err else 'no output'}")


def measure_throughput(server, loadgen, conns, size, seconds, cpu):
    """`loadgen` is its command without the arguments: [path] or [path, "--tls"]."""
    p = start_loadgen(loadgen + ["127.0.0.1", str(server.port), str(conns), str(size), str(seconds)], cpu)
    lines = Lines(p.stdout)
    srv0 = srv1 = lg0 = lg1 = result = None
    try:
        deadline = time.monotonic() + seconds + 90
        while True:
            line = lines.readline(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise RunError("loadgen timed out")
            if line == "":
                break
            line = line.strip()
            if line == "start":
                srv0, lg0, all0 = cpu_seconds(server.pid), cpu_seconds(p.pid), machine_busy_seconds()
            elif line == "end":
                srv1, lg1, all1 = cpu_seconds(server.pid), cpu_seconds(p.pid), machine_busy_seconds()
            elif line.startswith("{"):
                result = json.loads(line)
    finally:
        rc, err = finish_loadgen(p)
    server.check_alive()
    if rc != 0 or result is None or srv0 is None or srv1 is None:
        raise RunError(f"loadgen exit {rc}: {err.splitlines()[-1] if err else 'no output'}")
    req = result["requests"]
    if req <= 0:
        raise RunError("no request completed in the measured window")
    result.update(
        server_cpu_s=srv1 - srv0,
        server_cpu_us_per_req=(srv1 - srv0) * 1e6 / req,
        server_cpu_busy=(srv1 - srv0) / result["elapsed"],
        loadgen_cpu_busy=(lg1 - lg0) / result["elapsed"],
        # CPU used by anything else on the machine during the window, in cores (other processes,
        # interrupts); near 0 on a quiet machine.
        other_cpu=max(0.0, (all1 - all0) - (srv1 - srv0) - (lg1 - lg0)) / result["elapsed"],
    )
    return result


def wait_until(pred, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def measure_c10k(server, loadgen, n, cpu):
    time.sleep(0.3)
    fds0 = fd_count(server.pid)
    rss0 = status_kb(server.pid, "VmRSS")
    p = start_loadgen(loadgen + ["--idle", "127.0.0.1", str(server.port), str(n)], cpu, stdin=subprocess.PIPE)
    lines = Lines(p.stdout)
    try:
        line = lines.readline(180)
        if not line or not line.startswith("{"):
            raise RunError("loadgen --idle failed to open the connections")
        opened = json.loads(line)["opened"]
        # Connections the kernel completed may still wait in the accept queue: wait for the
        # server to hold all of them, then for its RSS to settle.
        all_accepted = wait_until(lambda: fd_count(server.pid) - fds0 >= opened, 60)
        accepted = fd_count(server.pid) - fds0
        time.sleep(0.5)
        rss1, deadline = status_kb(server.pid, "VmRSS"), time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.25)
            r = status_kb(server.pid, "VmRSS")
            if r == rss1:
                break
            rss1 = r
        p.stdin.write(b"check\n")
        p.stdin.flush()
        line = lines.readline(90)
        if not line or not line.startswith("{"):
            raise RunError("loadgen --idle did not report the check")
        served = json.loads(line)["served"]
        rss2 = status_kb(server.pid, "VmRSS")
    finally:
        try:
            p.stdin.close()  # loadgen exits on end of input if the check was not reached
        except OSError:
            pass
        p.stdin = None
        rc, err = finish_loadgen(p, 60)
    if rc not in (0, None) and err:
        raise RunError(f"loadgen exit {rc}: {err.splitlines()[-1]}")
    server.check_alive()
    res = dict(n=n, opened=opened, accepted=accepted, served=served, served_ratio=served / n,
               rss_before_kb=rss0, rss_open_kb=rss1, rss_after_check_kb=rss2,
               bytes_per_conn=(rss1 - rss0) * 1024 / n)
    if not all_accepted:
        res["note"] = f"only {accepted} of {opened} connections accepted within 60 s"
    return res


# ---- output -------------------------------------------------------------------------------------

def fmt(v):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def ratio_cell(v, base):
    if v is None:
        return "—"
    if base:
        return f"{fmt(v)} ({v / base:.2f}×)"
    return fmt(v)


def print_table(title, labels, columns, cell, first="server"):
    print(title + "\n")
    print(f"| {first} | " + " | ".join(h for h, _ in columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for label in labels:
        print(f"| {label} | " + " | ".join(cell(label, key) for _, key in columns) + " |")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", action="append", default=[], metavar="PATH",
                    help="our echo server (same PORT/ready protocol); shown first; may be repeated")
    ap.add_argument("--sizes", help="comma-separated message sizes in bytes (default 100,1024,10240)")
    ap.add_argument("--seconds", type=int, help="measured seconds per run, after 1 s warm-up (default 5)")
    ap.add_argument("--connections", type=int, help="concurrent connections (default 100)")
    ap.add_argument("--runs", type=int, default=1, help="runs per server and size; the median is shown")
    ap.add_argument("--c10k", type=int, nargs="?", const=10000, metavar="N",
                    help="instead of throughput: memory per idle connection with N connections (default 10000)")
    ap.add_argument("--prime", type=int, default=1, metavar="SECONDS",
                    help="length of the discarded priming run before each measured run (default 1; 0: none)")
    ap.add_argument("--idle-wait", type=float, default=120, metavar="SECONDS",
                    help="before each run wait up to this long for the machine to be idle (default 120; 0: never)")
    ap.add_argument("--retries", type=int, default=2,
                    help="measure again (up to this many times) when other processes disturbed a window")
    ap.add_argument("--tls", action="store_true",
                    help="TLS 1.3 echo: a self-signed certificate in BUILD_DIR/tls, servers run as PORT --tls CERT KEY")
    ap.add_argument("--quick", action="store_true", help="smoke test: size 1024, 2 s, 25 connections")
    ap.add_argument("--only", help="comma-separated subset of: ours," + ",".join(n for n, _ in SERVERS))
    ap.add_argument("--json-out", help="raw JSON lines of every run (default BUILD_DIR/results.jsonl)")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "bench-echo"))
    ap.add_argument("--server-cpu", default="1", help="CPU for servers (taskset -c; 'none' to not pin)")
    ap.add_argument("--client-cpu", default="0", help="CPU for loadgen (taskset -c; 'none' to not pin)")
    ap.add_argument("--install", action="store_true", help="apt-get install the peer packages first")
    args = ap.parse_args()

    # Turn SIGTERM into SystemExit so that the running server is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.install:
        install()
    sizes = [int(s) for s in (args.sizes or ("1024" if args.quick else "100,1024,10240")).split(",")]
    seconds = args.seconds or (2 if args.quick else 5)
    conns = args.connections or (25 if args.quick else 100)
    build_dir = os.path.abspath(args.build_dir)
    log_dir = os.path.join(build_dir, "logs")
    os.makedirs(log_dir, exist_ok=True)
    json_out = args.json_out or os.path.join(build_dir, "results-tls.jsonl" if args.tls else "results.jsonl")
    wanted = set(args.only.split(",")) if args.only else None
    notes = []
    server_cpu = None if args.server_cpu == "none" else args.server_cpu
    client_cpu = None if args.client_cpu == "none" else args.client_cpu
    if (server_cpu is not None or client_cpu is not None) and not shutil.which("taskset"):
        notes.append("taskset not found: nothing is pinned")
        server_cpu = client_cpu = None

    # Servers and loadgen inherit the raised limit (not every peer raises it itself).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.c10k is not None and hard != resource.RLIM_INFINITY and args.c10k + 64 > hard:
        sys.exit(f"--c10k {args.c10k} needs more file descriptors than the hard RLIMIT_NOFILE ({hard}) allows")

    server_args = []
    if args.tls:
        if args.c10k is not None:
            sys.exit("--tls measures throughput only; --c10k is plain TCP")
        if not HAVE_OPENSSL:
            sys.exit("--tls needs OpenSSL's headers for loadgen and c_server (apt-get install libssl-dev)")
        cert, key = make_certificate(build_dir)
        server_args = ["--tls", cert, key]
    try:
        loadgen = [build_c(build_dir, "loadgen")] + (["--tls"] if args.tls else [])
    except Skip as e:
        sys.exit(f"cannot build loadgen: {e}")

    servers = []  # (label, argv, env)
    for path in args.ours:
        label = "ours" if len(args.ours) == 1 else f"ours:{os.path.basename(path.split()[0])}"
        if wanted is not None and "ours" not in wanted and label not in wanted:
            continue
        argv = [os.path.abspath(path)] if os.path.isfile(path) else shlex.split(path)
        if not argv or not tool(argv[0]):
            notes.append(f"{label}: skipped, {path} is not an executable file")
            continue
        servers.append((label, argv, {}))
    for name, make in SERVERS:
        if wanted is not None and name not in wanted:
            continue
        try:
            argv, env = make(build_dir, tls=True) if args.tls and make is server_tokio else make(build_dir)
            servers.append((name, argv, env))
        except Skip as e:
            notes.append(f"{name}: skipped, {e}")
            log(f"skip {name}: {e}")
    labels = [s[0] for s in servers]
    pinning = f"servers on CPU {server_cpu or 'any'}, loadgen on CPU {client_cpu or 'any'}"

    def quiet(what):
        if args.idle_wait > 0 and not wait_quiet(args.idle_wait):
            notes.append(f"{what}: the machine was still busy after waiting {args.idle_wait} s; measured anyway")
            log(f"machine busy, measuring {what} anyway")

    t_start = time.monotonic()
    with open(json_out, "w") as jf:
        def record(res):
            jf.write(json.dumps(res) + "\n")
            jf.flush()

        if args.c10k is not None:
            n = args.c10k
            results = {}
            for label, argv, env in servers:
                quiet(f"{label} c10k")
                try:
                    server = Server(label, argv, env, server_cpu, log_dir, server_args)
                    try:
                        res = measure_c10k(server, loadgen, n, client_cpu)
                    finally:
                        server.stop()
                except RunError as e:
                    notes.append(f"{label} c10k: {e}")
                    log(f"FAIL {label} c10k: {e}")
                    continue
                res.update(server=label, test="c10k")
                if res.get("note"):
                    notes.append(f"{label}: {res['note']}")
                record(res)
                results[label] = res
                log(f"c10k {label:17s} {res['bytes_per_conn']:9.0f} B/conn  served {res['served']}/{n}")
            base = results.get(BASELINE, {}).get("bytes_per_conn")
            columns = [("RSS before (MiB)", "rss_before_kb"), ("RSS with N open (MiB)", "rss_open_kb"),
                       ("bytes per connection", "bytes_per_conn"), ("served / N", "served_ratio")]

            def cell(label, key):
                r = results.get(label)
                if r is None:
                    return "—"
                if key == "bytes_per_conn":
                    return ratio_cell(r[key], base)
                if key == "served_ratio":
                    return f"{r['served']:,}/{n:,}"
                return f"{r[key] / 1024:.1f}"

            print_table(f"## C10K: {n:,} idle connections ({pinning})\n\n"
                        "bytes per connection = (server VmRSS with all connections open - VmRSS before) / N, "
                        f"ratio to {BASELINE} in parentheses; kernel socket buffers are not in RSS.",
                        labels, columns, cell)
        else:
            results = {}  # (label, size) -> list of results
            for r in range(args.runs):
                for size in sizes:
                    for label, argv, env in servers:
                        best, attempts = None, []  # best: the attempt least disturbed by other processes
                        for attempt in range(1 + args.retries):
                            quiet(f"{label} size {size}")
                            try:
                                server = Server(label, argv, env, server_cpu, log_dir, server_args)
                                try:
                                    if args.prime:
                                        prime(server, loadgen, conns, size, args.prime, client_cpu)
                                    res = measure_throughput(server, loadgen, conns, size, seconds, client_cpu)
                                finally:
                                    server.stop()
                            except RunError as e:
                                notes.append(f"{label} size {size} run {r + 1}: {e}")
                                log(f"FAIL {label} size {size}: {e}")
                                break
                            res.update(server=label, test="throughput", tls=args.tls, run=r + 1, attempt=attempt + 1)
                            attempts.append(res)
                            log(f"run {r + 1}/{args.runs} size {size:6d} {label:17s} {res['rps']:11,.0f} req/s "
                                f"{res['server_cpu_us_per_req']:7.2f} µs/req  server CPU {res['server_cpu_busy']:4.0%}"
                                f"  loadgen CPU {res['loadgen_cpu_busy']:4.0%}  other {res['other_cpu']:.2f} cores")
                            if best is None or res["other_cpu"] < best["other_cpu"]:
                                best = res
                            if res["other_cpu"] <= OTHER_CPU_LIMIT:
                                break
                            log("  other processes were busy during the window; "
                                + ("measuring again" if attempt < args.retries else "keeping the least disturbed run"))
                        for a in attempts:
                            a["kept"] = a is best
                            record(a)
                        if best is None:
                            continue
                        results.setdefault((label, size), []).append(best)
                        if best["other_cpu"] > OTHER_CPU_LIMIT:
                            notes.append(f"{label} size {size} run {r + 1}: other processes used "
                                         f"{best['other_cpu']:.2f} cores during the window; marked †")

            def med(label, size, key):
                vals = [x[key] for x in results.get((label, size), [])]
                return statistics.median(vals) if vals else None

            columns = [(f"{s:,} B", s) for s in sizes]
            primed = f"after a {args.prime} s priming run and " if args.prime else "after "
            head = (("TLS 1.3 (TLS_AES_128_GCM_SHA256, P-256 certificate), handshakes during the warm-up; "
                     if args.tls else "") + f"{conns} connections, closed loop, {seconds} s measured {primed}1 s warm-up, "
                    f"median of {args.runs} run(s); {pinning}.")
            print(head + "\n")
            print_table(f"## Requests per second (ratio to {BASELINE}; higher is better)",
                        labels, columns, lambda l, s: ratio_cell(med(l, s, "rps"), med(BASELINE, s, "rps")))
            print_table(f"## Server CPU µs per request (ratio to {BASELINE}; lower is better)",
                        labels, columns,
                        lambda l, s: ratio_cell(med(l, s, "server_cpu_us_per_req"),
                                                med(BASELINE, s, "server_cpu_us_per_req")))
            def busy_cell(label, size):
                rs = results.get((label, size), [])
                if not rs:
                    return "—"
                mark = " †" if any(x["other_cpu"] > OTHER_CPU_LIMIT for x in rs) else ""
                return (f"{med(label, size, 'server_cpu_busy'):.0%} / "
                        f"{med(label, size, 'loadgen_cpu_busy'):.0%}{mark}")

            print_table("## CPU busy during the window: server / loadgen (100% = one core; "
                        f"† = other processes used > {OTHER_CPU_LIMIT} cores meanwhile)",
                        labels, columns, busy_cell)
    print(f"raw JSON lines: {json_out}; server stderr: {log_dir}; total {time.monotonic() - t_start:.0f} s")
    for n in notes:
        print(f"- note: {n}")


if __name__ == "__main__":
    main()
