//! Datagram backpressure over UDP loopback: received datagrams the application has no room
//! for wait in quinn's receive buffer (the one place they are dropped), and a waiting send
//! waits for room in quinn's send buffer.

mod common;

use bytes::Bytes;
use common::*;

const COUNT: usize = 3000;
const SIZE: usize = 1000;

/// The server reads nothing while the client sends 3000 datagrams, then reads 600: more than
/// the session layer's queue (256), so the driver must have left the rest in quinn and moved
/// them on as the application read. Before, the engine dropped all but 256 per pass and the
/// session layer dropped its oldest.
#[tokio::test]
async fn unread_datagrams_wait_in_the_transport() {
    within(30, async {
        let (endpoint, addr, hash) = bare_server(Default::default());
        let (sent_tx, sent_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let session = endpoint.accept().await.unwrap().accept().unwrap();
            sent_rx.await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            assert_eq!(
                session.datagrams_dropped(),
                0,
                "session layer dropped datagrams"
            );
            for i in 0..600 {
                let d = within(5, session.read_datagram()).await.unwrap();
                assert_eq!(d.len(), SIZE, "datagram {i}");
            }
            endpoint
        });
        let client = client_for(&hash);
        let url = format!("https://localhost:{}/", addr.port());
        let session = client.connect(&url).await.unwrap();
        let payload = Bytes::from(vec![7u8; SIZE]);
        for _ in 0..COUNT {
            session.send_datagram_wait(payload.clone()).await.unwrap();
        }
        sent_tx.send(()).unwrap();
        server.await.unwrap();
    })
    .await;
}

/// A waiting send on a session whose peer never reads completes (datagrams are not flow
/// controlled: room comes back as quinn transmits), and fails once the session is closed.
#[tokio::test]
async fn waiting_send_completes_and_fails_after_close() {
    within(30, async {
        let (endpoint, addr, hash) = bare_server(Default::default());
        let server = tokio::spawn(async move {
            let session = endpoint.accept().await.unwrap().accept().unwrap();
            session.closed().await;
            endpoint
        });
        let client = client_for(&hash);
        let url = format!("https://localhost:{}/", addr.port());
        let session = client.connect(&url).await.unwrap();
        let payload = Bytes::from(vec![1u8; SIZE]);
        for _ in 0..COUNT {
            session.send_datagram_wait(payload.clone()).await.unwrap();
        }
        session.close(0, "");
        assert!(session.send_datagram_wait(payload).await.is_err());
        server.await.unwrap();
    })
    .await;
}

fn client_for(hash: &[u8; 32]) -> wt_quinn::Endpoint {
    let config = wt_quinn::tls::client_config_with_hashes(vec![*hash]).unwrap();
    wt_quinn::Endpoint::client("127.0.0.1:0".parse().unwrap(), config).unwrap()
}
