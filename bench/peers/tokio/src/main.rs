// Peer benchmark: Tokio current-thread runtime (spawn, spawn_all, switch, timers, sleepers); see bench/peers/README.md.
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

fn rss_kb(field: &str) -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with(&format!("{field}:")));
    line.and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0)
}

/// Shared LCG every peer uses: uniform integer delays in [0, 1000] ms.
fn delays_ms(n: usize) -> Vec<u64> {
    let mut x: u32 = 42;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1664525).wrapping_add(1013904223);
            ((x >> 8) % 1001) as u64
        })
        .collect()
}

async fn spawn(n: u64) {
    let mut s = 0;
    for i in 0..n {
        s += tokio::spawn(async move { i }).await.unwrap();
    }
    assert_eq!(s, n * (n - 1) / 2);
}

async fn spawn_all(n: u64) {
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i })).collect();
    let mut s = 0;
    for t in tasks {
        s += t.await.unwrap();
    }
    assert_eq!(s, n * (n - 1) / 2);
}

async fn ping_pong(n: u64) {
    let (tx1, mut rx1) = mpsc::channel::<u64>(1);
    let (tx2, mut rx2) = mpsc::channel::<u64>(1);
    let b = tokio::spawn(async move {
        while let Some(v) = rx1.recv().await {
            tx2.send(v).await.unwrap();
        }
    });
    for i in 0..n {
        tx1.send(i).await.unwrap();
        assert_eq!(rx2.recv().await, Some(i));
    }
    drop(tx1);
    b.await.unwrap();
}

async fn sleep_all(ms: &[u64]) {
    let tasks: Vec<_> = ms.iter().map(|&d| tokio::spawn(tokio::time::sleep(Duration::from_millis(d)))).collect();
    for t in tasks {
        t.await.unwrap();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (workload, n) = (args[1].as_str(), args[2].parse::<u64>().unwrap());
    let ms = match workload {
        "timers" => Some(delays_ms(n as usize)),
        "sleepers" => Some(vec![1000; n as usize]),
        _ => None,
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let base = rss_kb("VmRSS");
    let t0 = Instant::now();
    rt.block_on(async {
        match (workload, &ms) {
            (_, Some(ms)) => sleep_all(ms).await,
            ("spawn", _) => spawn(n).await,
            ("spawn_all", _) => spawn_all(n).await,
            ("switch", _) => ping_pong(n).await,
            _ => panic!("unknown workload {workload}"),
        }
    });
    let wall = t0.elapsed().as_nanos() as f64;
    let peak = rss_kb("VmHWM");
    let mut out = format!(
        r#"{{"peer":"tokio","workload":"{workload}","n":{n},"ns_per_op":{:.3},"wall_ms":{:.3},"baseline_rss_kb":{base},"peak_rss_kb":{peak},"bytes_per_task":{:.3}"#,
        wall / n as f64,
        wall / 1e6,
        (peak - base) as f64 * 1024.0 / n as f64
    );
    if let Some(ms) = &ms {
        let mx = *ms.iter().max().unwrap();
        out += &format!(r#","max_sleep_ms":{mx},"lateness_ms":{:.3}"#, wall / 1e6 - mx as f64);
    }
    println!("{out}}}");
}
