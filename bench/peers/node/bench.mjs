// Peer benchmark: Node.js async functions and promises (spawn, spawn_all, switch, timers, sleepers); see bench/peers/README.md.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const rssKB = (field) => Number(readFileSync("/proc/self/status", "utf8").match(new RegExp(`^${field}:\\s+(\\d+)`, "m"))[1]);

// Shared LCG every peer uses: uniform integer delays in [0, 1000] ms.
function delaysMs(n) {
  let x = 42;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = (x >>> 8) % 1001;
  }
  return out;
}

// Promise-based unbounded queue, like asyncio.Queue.
class Queue {
  items = [];
  waiters = [];
  put(v) {
    const w = this.waiters.shift();
    if (w) w(v);
    else this.items.push(v);
  }
  get() {
    return this.items.length ? Promise.resolve(this.items.shift()) : new Promise((resolve) => this.waiters.push(resolve));
  }
}

const ret = async (i) => i;

async function spawn(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += await ret(i);
  if (s !== (n * (n - 1)) / 2) throw new Error("bad sum");
}

async function spawnAll(n) {
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(ret(i));
  let s = 0;
  for (const t of tasks) s += await t;
  if (s !== (n * (n - 1)) / 2) throw new Error("bad sum");
}

async function pingPong(n) {
  const q1 = new Queue(), q2 = new Queue();
  const b = (async () => {
    for (let i = 0; i < n; i++) q2.put(await q1.get());
  })();
  for (let i = 0; i < n; i++) {
    q1.put(i);
    if ((await q2.get()) !== i) throw new Error("bad value");
  }
  await b;
}

const sleepAll = (ms) => Promise.all(ms.map((d) => sleep(d)));

const [workload, nArg] = process.argv.slice(2);
const n = Number(nArg);
const ms = workload === "timers" ? delaysMs(n) : workload === "sleepers" ? new Array(n).fill(1000) : null;
const fn = { spawn, spawn_all: spawnAll, switch: pingPong }[workload];
if (!ms && !fn) throw new Error(`unknown workload ${workload}`);
const base = rssKB("VmRSS");
const t0 = process.hrtime.bigint();
await (ms ? sleepAll(ms) : fn(n));
const wallNs = Number(process.hrtime.bigint() - t0);
const peak = rssKB("VmHWM");
const out = { peer: "node", workload, n, ns_per_op: wallNs / n, wall_ms: wallNs / 1e6,
  baseline_rss_kb: base, peak_rss_kb: peak, bytes_per_task: ((peak - base) * 1024) / n };
if (ms) {
  out.max_sleep_ms = ms.reduce((a, b) => (a > b ? a : b), 0);
  out.lateness_ms = wallNs / 1e6 - out.max_sleep_ms;
}
console.log(JSON.stringify(out));
