//! Lifetimes on both stacks: a client's connect gives up after its timeout when the server
//! never answers.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::{Stack, demo_server};
use wt_session::{ConnectOptions, Error};

/// Connects to a UDP port that swallows every packet: the QUIC handshake never completes.
async fn connect_to_silence(stack: Stack) {
    // A server only for its certificate hash; the client goes to a silent socket instead.
    let server = demo_server(stack);
    let client = server.client(stack);
    let silent = UdpSocket::bind("127.0.0.1:0".parse::<SocketAddr>().unwrap()).unwrap();
    let url = format!(
        "https://localhost:{}/echo",
        silent.local_addr().unwrap().port()
    );
    let options = ConnectOptions {
        timeout: Some(Duration::from_millis(500)),
        ..ConnectOptions::default()
    };
    let start = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        client.0.connect_with(&url, options),
    )
    .await
    .expect("connect returns by itself");
    assert!(matches!(r, Err(Error::TimedOut)), "{stack:?}: {r:?}");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(5),
        "{stack:?}: {took:?}"
    );
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_times_out_on_quinn() {
    connect_to_silence(Stack::Quinn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_times_out_on_s2n_quic() {
    connect_to_silence(Stack::S2n).await;
}
