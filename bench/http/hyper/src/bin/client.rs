// HTTP client benchmark program on hyper 0.14's pooled Client and Tokio's current-thread runtime;
// see bench/http/README.md.
//
//     hyper-client PORT REQUESTS CONCURRENCY
//
// Client protocol: set up, print "ready", wait for a line on stdin, make REQUESTS GETs of
// http://127.0.0.1:PORT/ from CONCURRENCY tasks sharing one Client (keep-alive pool holding up to
// CONCURRENCY idle connections), check each status is 200 and each body is 27 bytes, print one JSON
// line, then wait for the end of stdin and exit.
use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hyper::client::HttpConnector;
use hyper::{Client, Uri};

const BODY_LENGTH: usize = 27; // {"message":"Hello, World!"}

#[derive(Default)]
struct State {
    todo: AtomicI64,
    failed: AtomicI64,
    first_error: Mutex<Option<String>>,
}

impl State {
    fn fail(&self, what: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.first_error.lock().unwrap().get_or_insert(what);
    }
}

async fn worker(client: Client<HttpConnector>, uri: Uri, state: Arc<State>) {
    while state.todo.fetch_sub(1, Ordering::Relaxed) > 0 {
        match client.get(uri.clone()).await {
            Ok(res) => {
                let status = res.status();
                match hyper::body::to_bytes(res.into_body()).await {
                    Ok(body) if status == 200 && body.len() == BODY_LENGTH => {}
                    Ok(body) => state.fail(format!("status {}, {} body bytes", status.as_u16(), body.len())),
                    Err(e) => state.fail(e.to_string()),
                }
            }
            Err(e) => state.fail(e.to_string()),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let nums: Vec<u64> = args.iter().skip(1).filter_map(|a| a.parse().ok()).filter(|&v| v > 0).collect();
    if args.len() != 4 || nums.len() != 3 || nums[0] > 65535 {
        eprintln!("usage: hyper-client PORT REQUESTS CONCURRENCY");
        std::process::exit(2);
    }
    let (port, requests, concurrency) = (nums[0], nums[1], nums[2] as usize);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector> = Client::builder().pool_max_idle_per_host(concurrency).build(connector);
    let uri: Uri = format!("http://127.0.0.1:{port}/").parse().unwrap();
    let state = Arc::new(State::default());
    state.todo.store(requests as i64, Ordering::Relaxed);

    println!("ready");
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);

    let start = Instant::now();
    runtime.block_on(async {
        let workers: Vec<_> = (0..concurrency)
            .map(|_| tokio::spawn(worker(client.clone(), uri.clone(), state.clone())))
            .collect();
        for w in workers {
            let _ = w.await;
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let failed = state.failed.load(Ordering::Relaxed);
    println!(
        "{{\"requests\":{requests},\"failed\":{failed},\"seconds\":{elapsed:.6},\"rps\":{:.1}}}",
        requests as f64 / elapsed
    );
    if failed > 0 {
        let first = state.first_error.lock().unwrap().clone().unwrap_or_default();
        eprintln!("hyper-client: {failed} failed requests, first: {first}");
    }
    let _ = std::io::stdin().lock().read_to_end(&mut Vec::new());
    std::process::exit(if failed > 0 { 1 } else { 0 });
}
