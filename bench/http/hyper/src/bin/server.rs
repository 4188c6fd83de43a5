// HTTP/1.1 JSON server on hyper 0.14 and Tokio's current-thread runtime; see bench/http/README.md.
//
//     hyper-server PORT
//
// An accept loop spawning hyper's HTTP/1 connection driver per connection with one service_fn.
// The body is the constant {"message":"Hello, World!"} (Debian's registry has no serde_json); hyper
// sets Content-Length from it, adds Date and keeps connections alive.
use std::convert::Infallible;
use std::net::SocketAddr;

use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::Http;
use hyper::service::service_fn;
use hyper::{Body, Request, Response};
use tokio::net::TcpSocket;

const BODY: &[u8] = b"{\"message\":\"Hello, World!\"}";

async fn hello(_req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let mut res = Response::new(Body::from(BODY));
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(res)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = match args.get(1).map(|p| p.parse()) {
        Some(Ok(p)) if args.len() == 2 => p,
        _ => {
            eprintln!("usage: hyper-server PORT");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = (|| {
            let socket = TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(4096)
        })()
        .unwrap_or_else(|e| {
            eprintln!("hyper-server: listen on {addr}: {e}");
            std::process::exit(1);
        });
        println!("ready");
        let http = Http::new();
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let conn = http.serve_connection(stream, service_fn(hello));
                    tokio::spawn(async move {
                        let _ = conn.await; // a reset by the client just ends the connection
                    });
                }
                Err(e) => {
                    eprintln!("hyper-server: accept: {e}");
                    tokio::task::yield_now().await;
                }
            }
        }
    });
}
