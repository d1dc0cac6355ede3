//! End-to-end tests over UDP loopback: every demo route through the async API, datagrams and
//! streams in both directions, close codes both ways, rejection, many streams, large payloads.

mod common;

use bytes::Bytes;
use common::*;
use http::StatusCode;
use wt_quinn::{CloseKind, ConnectOptions, Error, Session};

async fn echo_bidi(session: &Session, data: Vec<u8>) -> Vec<u8> {
    let (mut send, mut recv) = session.open_bi().await.unwrap();
    let writer = tokio::spawn(async move {
        send.write_chunk(Bytes::from(data)).await.unwrap();
        send.finish().unwrap();
    });
    let back = recv.read_to_end(64 << 20).await.unwrap();
    writer.await.unwrap();
    back
}

async fn echo_uni(session: &Session, data: Vec<u8>) -> Vec<u8> {
    let mut send = session.open_uni().await.unwrap();
    let writer = tokio::spawn(async move {
        send.write_chunk(Bytes::from(data)).await.unwrap();
        send.finish().unwrap();
    });
    let mut recv = session.accept_uni().await.unwrap();
    let back = recv.read_to_end(64 << 20).await.unwrap();
    writer.await.unwrap();
    back
}

#[tokio::test]
async fn echo_route_datagrams_uni_bidi() {
    init_tracing();
    within(20, async {
        let server = demo_server();
        let client = server.client();
        let session = client.connect(&server.url("/echo")).await.unwrap();
        assert!(
            session.max_datagram_size() > 1000,
            "{}",
            session.max_datagram_size()
        );
        for i in 0..5u8 {
            session.send_datagram(Bytes::from(vec![i; 100])).unwrap();
            let d = within(5, session.read_datagram()).await.unwrap();
            assert_eq!(&d[..], &[i; 100][..]);
        }
        let big = vec![0u8; session.max_datagram_size() + 1];
        assert!(matches!(
            session.send_datagram(Bytes::from(big)),
            Err(Error::DatagramTooLarge { .. })
        ));
        assert_eq!(echo_bidi(&session, b"hello".to_vec()).await, b"hello");
        assert_eq!(
            echo_uni(&session, b"uni hello".to_vec()).await,
            b"uni hello"
        );
        // An empty stream comes back empty.
        assert_eq!(echo_bidi(&session, Vec::new()).await, b"");
        session.close(7, "done");
        let info = session.closed().await;
        assert_eq!(
            (info.code, info.reason.as_str(), info.kind),
            (7, "done", CloseKind::Local)
        );
    })
    .await;
}

#[tokio::test]
async fn protocol_echo_v1_is_chosen() {
    within(20, async {
        let server = demo_server();
        let client = server.client();
        let options = ConnectOptions {
            protocols: vec!["other".into(), "echo-v1".into()],
            ..ConnectOptions::default()
        };
        let session = client
            .connect_with(&server.url("/echo"), options)
            .await
            .unwrap();
        assert_eq!(session.protocol(), Some("echo-v1"));
        let plain = client.connect(&server.url("/echo")).await.unwrap();
        assert_eq!(plain.protocol(), None);
    })
    .await;
}

#[tokio::test]
async fn open_route_server_streams_to_client() {
    within(20, async {
        let server = demo_server();
        let client = server.client();
        let session = client.connect(&server.url("/open")).await.unwrap();
        let expected = wt_session::demo::open_payload();
        // The server's uni stream: 4096 bytes and FIN.
        let mut uni = session.accept_uni().await.unwrap();
        assert_eq!(uni.read_to_end(1 << 20).await.unwrap(), expected);
        // The server's bidi stream: 4096 bytes, then it echoes; FIN after ours.
        let (mut send, mut recv) = session.accept_bi().await.unwrap();
        let mut got = Vec::new();
        while got.len() < expected.len() {
            let c = recv.read_chunk(usize::MAX).await.unwrap().unwrap();
            got.extend_from_slice(&c);
        }
        assert_eq!(got, expected);
        send.write_chunk(Bytes::from_static(b"back to the server"))
            .await
            .unwrap();
        send.finish().unwrap();
        assert_eq!(
            recv.read_to_end(1 << 20).await.unwrap(),
            b"back to the server"
        );
        // It also echoes like /echo.
        session.send_datagram(Bytes::from_static(b"dg")).unwrap();
        assert_eq!(&session.read_datagram().await.unwrap()[..], b"dg");
        assert_eq!(echo_bidi(&session, b"x".to_vec()).await, b"x");
    })
    .await;
}

#[tokio::test]
async fn close_route_default_and_custom_codes() {
    within(20, async {
        let server = demo_server();
        let client = server.client();
        let session = client.connect(&server.url("/close")).await.unwrap();
        let info = session.closed().await;
        assert_eq!((info.code, info.reason.as_str()), (42, "bye"));
        assert_eq!(info.kind, CloseKind::Remote);
        assert_eq!(
            session.read_datagram().await,
            Err(Error::ClosedByPeer {
                code: 42,
                reason: "bye".into()
            })
        );
        assert!(session.open_bi().await.is_err());

        let session = client
            .connect(&server.url("/close?code=4000000000&reason=see%20you"))
            .await
            .unwrap();
        let info = session.closed().await;
        assert_eq!(
            (info.code, info.reason.as_str()),
            (4_000_000_000, "see you")
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_path_is_rejected_with_404() {
    within(20, async {
        let server = demo_server();
        let client = server.client();
        let err = client.connect(&server.url("/nope")).await.unwrap_err();
        assert_eq!(err, Error::Rejected { status: 404 });
    })
    .await;
}

#[tokio::test]
async fn application_reject_status() {
    within(20, async {
        let (endpoint, addr, hash) = bare_server(Default::default());
        let server = tokio::spawn(async move {
            let req = endpoint.accept().await.unwrap();
            assert_eq!(req.path(), "/private");
            assert_eq!(req.authority(), format!("localhost:{}", addr.port()));
            assert_eq!(req.origin(), Some("https://example.org"));
            assert_eq!(req.protocols(), ["a", "b"]);
            req.reject(StatusCode::FORBIDDEN).unwrap();
            endpoint
        });
        let s = Server {
            endpoint: server_placeholder(),
            addr,
            hash,
        };
        let client = s.client();
        let options = ConnectOptions {
            protocols: vec!["a".into(), "b".into()],
            origin: Some("https://example.org".into()),
            ..ConnectOptions::default()
        };
        let err = client
            .connect_with(&s.url("/private"), options)
            .await
            .unwrap_err();
        assert_eq!(err, Error::Rejected { status: 403 });
        server.await.unwrap();
    })
    .await;
}

fn server_placeholder() -> wt_quinn::Endpoint {
    // A client endpoint stands in where the helper wants one; it is not used.
    let config = wt_quinn::tls::client_config_with_hashes(vec![]).unwrap();
    wt_quinn::Endpoint::client("127.0.0.1:0".parse().unwrap(), config).unwrap()
}

#[tokio::test]
async fn client_close_code_and_resets_are_reported() {
    within(20, async {
        let server = demo_server();
        let client = server.client();
        let session = client.connect(&server.url("/echo?id=r1")).await.unwrap();
        // A bidi stream reset by the client is mirrored with the same code.
        let (mut send, mut recv) = session.open_bi().await.unwrap();
        send.write_chunk(Bytes::from_static(b"abc")).await.unwrap();
        assert_eq!(
            &recv.read_chunk(usize::MAX).await.unwrap().unwrap()[..],
            b"abc"
        );
        send.reset(7).unwrap();
        assert_eq!(recv.read_chunk(usize::MAX).await, Err(Error::Reset(7)));
        // A uni stream reset is recorded too.
        let mut uni = session.open_uni().await.unwrap();
        uni.write_chunk(Bytes::from_static(b"u")).await.unwrap();
        let mut back = session.accept_uni().await.unwrap();
        assert_eq!(
            &back.read_chunk(usize::MAX).await.unwrap().unwrap()[..],
            b"u"
        );
        uni.reset(9).unwrap();
        assert_eq!(back.read_chunk(usize::MAX).await, Err(Error::Reset(9)));
        session.close(1234, "client bye");
        session.closed().await;

        let report = client.connect(&server.url("/report?id=r1")).await.unwrap();
        let mut uni = report.accept_uni().await.unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&uni.read_to_end(1 << 16).await.unwrap()).unwrap();
        assert_eq!(json["id"], "r1");
        assert_eq!(json["found"], true);
        assert_eq!(json["code"], 1234);
        assert_eq!(json["reason"], "client bye");
        assert_eq!(json["resets"], serde_json::json!([7, 9]));

        // An id nobody used: found false after the 3 s wait.
        let report = client
            .connect(&server.url("/report?id=unknown"))
            .await
            .unwrap();
        let mut uni = report.accept_uni().await.unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&uni.read_to_end(1 << 16).await.unwrap()).unwrap();
        assert_eq!(json["found"], false);
    })
    .await;
}

#[tokio::test]
async fn server_application_both_directions_and_stop() {
    within(20, async {
        let (endpoint, addr, hash) = bare_server(Default::default());
        let server = tokio::spawn(async move {
            let session = endpoint.accept().await.unwrap().accept().unwrap();
            // Server-initiated: datagram, uni, bidi.
            session
                .send_datagram(Bytes::from_static(b"from server"))
                .unwrap();
            let mut uni = session.open_uni().await.unwrap();
            uni.write_chunk(Bytes::from_static(b"server uni"))
                .await
                .unwrap();
            uni.finish().unwrap();
            let (mut send, mut recv) = session.open_bi().await.unwrap();
            send.write_chunk(Bytes::from_static(b"server bidi"))
                .await
                .unwrap();
            send.finish().unwrap();
            assert_eq!(recv.read_to_end(1024).await.unwrap(), b"client answer");
            // The client stops a stream: the server's write fails with the code.
            let mut stopped = session.open_uni().await.unwrap();
            stopped.write_chunk(Bytes::from_static(b"x")).await.unwrap();
            let err = loop {
                match stopped.write_chunk(Bytes::from_static(b"more")).await {
                    Ok(()) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
                    Err(e) => break e,
                }
            };
            assert_eq!(err, Error::Stopped(77));
            let info = session.closed().await;
            assert_eq!((info.code, info.kind), (5, CloseKind::Remote));
            endpoint
        });
        let s = Server {
            endpoint: server_placeholder(),
            addr,
            hash,
        };
        let client = s.client();
        let session = client.connect(&s.url("/anything")).await.unwrap();
        assert_eq!(&session.read_datagram().await.unwrap()[..], b"from server");
        let mut uni = session.accept_uni().await.unwrap();
        assert_eq!(uni.read_to_end(1024).await.unwrap(), b"server uni");
        let (mut send, mut recv) = session.accept_bi().await.unwrap();
        assert_eq!(recv.read_to_end(1024).await.unwrap(), b"server bidi");
        send.write_chunk(Bytes::from_static(b"client answer"))
            .await
            .unwrap();
        send.finish().unwrap();
        let mut to_stop = session.accept_uni().await.unwrap();
        to_stop.read_chunk(usize::MAX).await.unwrap();
        to_stop.stop(77).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        session.close(5, "");
        server.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn hundred_concurrent_bidi_streams() {
    within(30, async {
        let server = demo_server();
        let client = server.client();
        let session = client.connect(&server.url("/echo")).await.unwrap();
        let tasks: Vec<_> = (0..100u8)
            .map(|i| {
                let session = session.clone();
                tokio::spawn(async move {
                    let data = pattern(10_000 + i as usize * 100, i);
                    assert_eq!(echo_bidi(&session, data.clone()).await, data, "stream {i}");
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn sixteen_mib_byte_exact_bidi_and_uni() {
    within(60, async {
        let server = demo_server();
        let client = server.client();
        let session = client.connect(&server.url("/echo")).await.unwrap();
        let data = pattern(16 << 20, 3);
        let back = echo_bidi(&session, data.clone()).await;
        assert!(
            back == data,
            "bidi echo differs ({} bytes back)",
            back.len()
        );
        let back = echo_uni(&session, data.clone()).await;
        assert!(back == data, "uni echo differs ({} bytes back)", back.len());
    })
    .await;
}

#[tokio::test]
async fn async_read_write_traits() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    within(20, async {
        let server = demo_server();
        let client = server.client();
        let session = client.connect(&server.url("/echo")).await.unwrap();
        let (mut send, mut recv) = session.open_bi().await.unwrap();
        let data = pattern(300_000, 9);
        let d2 = data.clone();
        let w = tokio::spawn(async move {
            send.write_all(&d2).await.unwrap();
            send.shutdown().await.unwrap();
        });
        let mut back = Vec::new();
        AsyncReadExt::read_to_end(&mut recv, &mut back)
            .await
            .unwrap();
        w.await.unwrap();
        assert!(back == data);
    })
    .await;
}

#[tokio::test]
async fn switches_refuse_streams() {
    within(20, async {
        let config = wt_quinn::wt_proto::Config::default().with(|c| c.bidi_streams = false);
        let server = demo_server_with(config);
        let client = server.client();
        let session = client.connect(&server.url("/echo")).await.unwrap();
        // Uni still works; a bidi stream is refused by the server (reset).
        assert_eq!(echo_uni(&session, b"ok".to_vec()).await, b"ok");
        let (mut send, mut recv) = session.open_bi().await.unwrap();
        let _ = send.write_chunk(Bytes::from_static(b"x")).await;
        assert!(matches!(
            recv.read_chunk(usize::MAX).await,
            Err(Error::Reset(_)) | Err(_)
        ));
    })
    .await;
}

#[tokio::test]
async fn wrong_certificate_hash_fails() {
    within(20, async {
        let server = demo_server();
        let config = wt_quinn::tls::client_config_with_hashes(vec![[0u8; 32]]).unwrap();
        let client = wt_quinn::Endpoint::client("127.0.0.1:0".parse().unwrap(), config).unwrap();
        let err = client.connect(&server.url("/echo")).await.unwrap_err();
        assert!(
            matches!(err, Error::ProtocolError { .. } | Error::ConnectionLost(_)),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn server_endpoint_drop_ends_client_session() {
    within(20, async {
        let (endpoint, addr, hash) = bare_server(Default::default());
        let s = Server {
            endpoint: server_placeholder(),
            addr,
            hash,
        };
        let client = s.client();
        let accept = tokio::spawn(async move {
            let session = endpoint.accept().await.unwrap().accept().unwrap();
            (endpoint, session)
        });
        let session = client.connect(&s.url("/x")).await.unwrap();
        let (endpoint, server_session) = accept.await.unwrap();
        drop(server_session);
        drop(endpoint);
        let info = session.closed().await;
        assert!(
            matches!(info.kind, CloseKind::Remote | CloseKind::Connection(_)),
            "{info:?}"
        );
    })
    .await;
}
