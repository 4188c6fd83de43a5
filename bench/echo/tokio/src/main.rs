// TCP echo server on Tokio's current-thread runtime (a task per connection); see bench/echo/README.md.
//
//     tokio-echo PORT
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

async fn echo(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    // read_buf fills the spare capacity without zeroing it first, so an idle connection's
    // buffer stays untouched (as in the other servers).
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if stream.write_all(&buf).await.is_err() {
            return;
        }
        buf.clear();
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = match args.get(1).map(|p| p.parse()) {
        Some(Ok(p)) if args.len() == 2 => p,
        _ => {
            eprintln!("usage: tokio-echo PORT");
            std::process::exit(2);
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = (|| {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(4096)
    })()
    .unwrap_or_else(|e| {
        eprintln!("tokio-echo: listen on {addr}: {e}");
        std::process::exit(1);
    });
    println!("ready");
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(echo(stream));
            }
            Err(e) => {
                eprintln!("tokio-echo: accept: {e}");
                tokio::task::yield_now().await;
            }
        }
    }
}
