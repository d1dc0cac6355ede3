mod common;

use bytes::Bytes;
use common::*;

#[tokio::test]
async fn s2n_echo_smoke() {
    init_tracing();
    within(20, async {
        let server = demo_server(Stack::S2n);
        let client = server.client(Stack::S2n);
        let session = client.connect(&server.url("/echo")).await.unwrap();
        assert!(session.max_datagram_size() > 1000);
        session.send_datagram(Bytes::from_static(b"ping")).unwrap();
        let d = session.read_datagram().await.unwrap();
        assert_eq!(&d[..], b"ping");
        let (mut send, mut recv) = session.open_bi().await.unwrap();
        send.write_chunk(Bytes::from_static(b"hello"))
            .await
            .unwrap();
        send.finish().unwrap();
        let back = recv.read_to_end(1 << 20).await.unwrap();
        assert_eq!(back, b"hello");
        session.close(7, "done");
        let info = session.closed().await;
        assert_eq!(info.code, 7);
    })
    .await;
}
