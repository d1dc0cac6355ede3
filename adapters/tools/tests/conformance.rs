//! The conformance suite: the end-to-end cases (every route of the demo server, datagrams,
//! streams both ways, resets and stop-sending with codes, close codes and reasons, reject,
//! concurrency, large payloads, a slow reader), written once and run for every pairing of
//! stacks over UDP loopback:
//!
//! | module | server | client |
//! |---|---|---|
//! | `s2n_s2n` | wt-s2n-quic | wt-s2n-quic |
//! | `quinn_s2n` | wt-quinn | wt-s2n-quic |
//! | `s2n_quinn` | wt-s2n-quic | wt-quinn |
//! | `quinn_quinn` | wt-quinn | wt-quinn |
//!
//! Every case runs under a deadline.

mod common;

mod cases {
    use std::time::Duration;

    use bytes::Bytes;
    use wt_session::wt_proto::Config;
    use wt_session::{CloseKind, Error, Session};

    use crate::common::*;

    const DEADLINE: u64 = 20;

    async fn session(server: &Server, client: &ClientEp, path: &str) -> Session {
        client.connect(&server.url(path)).await.unwrap()
    }

    async fn read_all(recv: &mut wt_session::RecvStream) -> Vec<u8> {
        recv.read_to_end(64 << 20).await.unwrap()
    }

    /// Datagrams echo both ways; one over the limit is refused locally.
    pub async fn datagrams(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            let session = session(&server, &client, "/echo").await;
            let max = session.max_datagram_size();
            assert!(max > 1000, "max datagram {max}");
            // The largest both stacks take: each adapter reports its own limit.
            for (i, len) in [1usize, 100, 1000, max.min(1099)].into_iter().enumerate() {
                let data = Bytes::from(pattern(len, i as u8));
                // Datagrams are unreliable: resend until the echo arrives.
                let echoed = loop {
                    session.send_datagram(data.clone()).unwrap();
                    match tokio::time::timeout(Duration::from_millis(300), session.read_datagram())
                        .await
                    {
                        Ok(d) => break d.unwrap(),
                        Err(_) => continue,
                    }
                };
                assert_eq!(echoed, data, "datagram of {len} bytes");
            }
            let max = session.max_datagram_size();
            let too_large = Bytes::from(vec![0u8; max + 1]);
            assert!(matches!(
                session.send_datagram(too_large),
                Err(Error::DatagramTooLarge { .. })
            ));
            session.close(0, "");
        })
        .await;
    }

    /// A client bidi stream is echoed in place.
    pub async fn bidi_echo(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            let session = session(&server, &client, "/echo").await;
            let (mut send, mut recv) = session.open_bi().await.unwrap();
            let data = pattern(100_000, 1);
            send.write_chunk(Bytes::from(data.clone())).await.unwrap();
            send.finish().unwrap();
            assert_eq!(read_all(&mut recv).await, data);
            session.close(0, "");
        })
        .await;
    }

    /// A client uni stream comes back on a server uni stream.
    pub async fn uni_echo(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            let session = session(&server, &client, "/echo").await;
            let mut send = session.open_uni().await.unwrap();
            let data = pattern(50_000, 2);
            send.write_chunk(Bytes::from(data.clone())).await.unwrap();
            send.finish().unwrap();
            let mut recv = session.accept_uni().await.unwrap();
            assert_eq!(read_all(&mut recv).await, data);
            session.close(0, "");
        })
        .await;
    }

    /// `/open`: the server opens a bidi and a uni stream; the protocol offered is chosen.
    pub async fn server_opened_streams(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            let session = client
                .connect_with(&server.url("/open"), &["other", "echo-v1"])
                .await
                .unwrap();
            assert_eq!(session.protocol(), Some("echo-v1"));
            let payload = wt_session::demo::open_payload();
            let mut uni = session.accept_uni().await.unwrap();
            assert_eq!(read_all(&mut uni).await, payload);
            let (mut send, mut recv) = session.accept_bi().await.unwrap();
            let mut first = vec![0u8; payload.len()];
            let mut got = 0;
            while got < first.len() {
                let n = recv.read(&mut first[got..]).await.unwrap().unwrap();
                got += n;
            }
            assert_eq!(first, payload);
            send.write_chunk(Bytes::from_static(b"and back"))
                .await
                .unwrap();
            send.finish().unwrap();
            assert_eq!(read_all(&mut recv).await, b"and back");
            session.close(0, "");
        })
        .await;
    }

    /// `/close`: the server closes with a code and reason.
    pub async fn server_close_code(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            // The close may overtake the response: then connecting fails with it.
            let session = match client
                .connect(&server.url("/close?code=4242&reason=see%20you"))
                .await
            {
                Ok(s) => s,
                Err(e) => {
                    assert_eq!(
                        e,
                        Error::ClosedByPeer {
                            code: 4242,
                            reason: "see you".into()
                        }
                    );
                    return;
                }
            };
            let info = session.closed().await;
            assert_eq!(info.code, 4242);
            assert_eq!(info.reason, "see you");
            assert_eq!(info.kind, CloseKind::Remote);
            assert_eq!(
                session.open_uni().await.err(),
                Some(Error::ClosedByPeer {
                    code: 4242,
                    reason: "see you".into()
                })
            );
        })
        .await;
    }

    /// The client closes with a code and reason, and resets streams with codes; `/report`
    /// tells what the server saw.
    pub async fn client_close_and_resets_reported(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            let id = format!("r{}", std::process::id());
            let session = session(&server, &client, &format!("/echo?id={id}")).await;
            // A bidi reset is mirrored with the same code.
            let (mut send, mut recv) = session.open_bi().await.unwrap();
            send.write_chunk(Bytes::from_static(b"x")).await.unwrap();
            let mut one = [0u8; 1];
            assert_eq!(recv.read(&mut one).await.unwrap(), Some(1));
            send.reset(7).unwrap();
            assert_eq!(recv.read_to_end(1024).await.err(), Some(Error::Reset(7)));
            // A uni reset is recorded.
            let mut uni = session.open_uni().await.unwrap();
            uni.write_chunk(Bytes::from_static(b"y")).await.unwrap();
            // Let the byte arrive (so the server sees the stream) before resetting it.
            let mut echoed = session.accept_uni().await.unwrap();
            let mut b = [0u8; 1];
            assert_eq!(echoed.read(&mut b).await.unwrap(), Some(1));
            uni.reset(0xfffe).unwrap();
            assert_eq!(
                echoed.read_to_end(1024).await.err(),
                Some(Error::Reset(0xfffe))
            );
            session.close(1234, "client bye");
            assert_eq!(session.closed().await.kind, CloseKind::Local);

            let report = session_report(&server, &client, &id).await;
            assert!(report.contains("\"found\":true"), "{report}");
            assert!(report.contains("\"code\":1234"), "{report}");
            assert!(report.contains("\"reason\":\"client bye\""), "{report}");
            assert!(report.contains("\"resets\":[7,65534]"), "{report}");
        })
        .await;
    }

    async fn session_report(server: &Server, client: &ClientEp, id: &str) -> String {
        let s = session(server, client, &format!("/report?id={id}")).await;
        let mut recv = s.accept_uni().await.unwrap();
        let json = read_all(&mut recv).await;
        s.close(0, "");
        String::from_utf8(json).unwrap()
    }

    /// Unknown paths are rejected with 404; a custom status reaches the client.
    pub async fn reject(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            let r = client.connect(&server.url("/nope")).await;
            assert_eq!(r.err(), Some(Error::Rejected { status: 404 }));

            let bare = bare_server(s, Config::default());
            let ep = bare.endpoint.clone();
            tokio::spawn(async move {
                while let Some(req) = ep.accept().await {
                    let _ = req.reject(http::StatusCode::FORBIDDEN);
                }
            });
            let client = bare.client(c);
            let r = client.connect(&bare.url("/any")).await;
            assert_eq!(r.err(), Some(Error::Rejected { status: 403 }));
        })
        .await;
    }

    /// Stop-sending with application codes, both directions.
    pub async fn stop_sending_codes(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = bare_server(s, Config::default());
            let ep = server.endpoint.clone();
            let (tx, rx) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                let req = ep.accept().await.unwrap();
                let session = req.accept().unwrap();
                // The client's uni stream: stop it with 33.
                let mut recv = session.accept_uni().await.unwrap();
                let mut b = [0u8; 1];
                let _ = recv.read(&mut b).await;
                recv.stop(33).unwrap();
                // Our uni stream: the client stops it with 44; writing fails with that code.
                let mut send = session.open_uni().await.unwrap();
                let chunk = Bytes::from(vec![1u8; 16 * 1024]);
                let err = loop {
                    if let Err(e) = send.write_chunk(chunk.clone()).await {
                        break e;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                };
                let _ = tx.send(err);
                session.closed().await;
            });
            let client = server.client(c);
            let session = session(&server, &client, "/stop").await;
            let mut send = session.open_uni().await.unwrap();
            let chunk = Bytes::from(vec![2u8; 16 * 1024]);
            let err = loop {
                if let Err(e) = send.write_chunk(chunk.clone()).await {
                    break e;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            };
            assert_eq!(err, Error::Stopped(33));
            assert_eq!(send.stopped(), Some(33));
            let mut recv = session.accept_uni().await.unwrap();
            let mut b = [0u8; 1];
            let _ = recv.read(&mut b).await;
            recv.stop(44).unwrap();
            assert_eq!(rx.await.unwrap(), Error::Stopped(44));
            session.close(0, "");
        })
        .await;
    }

    /// Many sessions (each its own connection), each with several streams, at once.
    pub async fn concurrency(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            let mut tasks = Vec::new();
            for i in 0..8u8 {
                let client = client.clone();
                let url = server.url("/echo");
                tasks.push(tokio::spawn(async move {
                    let session = client.connect(&url).await.unwrap();
                    let mut streams = Vec::new();
                    for j in 0..8u8 {
                        let session = session.clone();
                        streams.push(tokio::spawn(async move {
                            let (mut send, mut recv) = session.open_bi().await.unwrap();
                            let data = pattern(20_000, i.wrapping_mul(16).wrapping_add(j));
                            send.write_chunk(Bytes::from(data.clone())).await.unwrap();
                            send.finish().unwrap();
                            assert_eq!(recv.read_to_end(1 << 20).await.unwrap(), data);
                        }));
                    }
                    for t in streams {
                        t.await.unwrap();
                    }
                    session.close(0, "");
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        })
        .await;
    }

    /// More streams than the QUIC stream credit on one session: opens wait for credit.
    pub async fn many_streams(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            let session = session(&server, &client, "/echo").await;
            let mut streams = Vec::new();
            for j in 0..300u32 {
                let session = session.clone();
                streams.push(tokio::spawn(async move {
                    let (mut send, mut recv) = session.open_bi().await.unwrap();
                    let data = j.to_be_bytes().to_vec();
                    send.write_chunk(Bytes::from(data.clone())).await.unwrap();
                    send.finish().unwrap();
                    assert_eq!(recv.read_to_end(1024).await.unwrap(), data);
                }));
            }
            for t in streams {
                t.await.unwrap();
            }
            session.close(0, "");
        })
        .await;
    }

    /// Megabytes both ways on one bidi stream, written and read concurrently.
    pub async fn large_payload(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            let session = session(&server, &client, "/echo").await;
            let (mut send, mut recv) = session.open_bi().await.unwrap();
            let data = pattern(3 << 20, 9);
            let expected = data.clone();
            let writer = tokio::spawn(async move {
                for chunk in data.chunks(100_000) {
                    send.write_chunk(Bytes::copy_from_slice(chunk))
                        .await
                        .unwrap();
                }
                send.finish().unwrap();
            });
            let back = read_all(&mut recv).await;
            writer.await.unwrap();
            assert_eq!(back.len(), expected.len());
            assert!(back == expected, "payload differs");
            session.close(0, "");
        })
        .await;
    }

    /// A reader that does not read holds the writer (bounded buffers, no loss); once it reads,
    /// everything arrives.
    pub async fn slow_reader(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            let session = session(&server, &client, "/echo").await;
            let (mut send, mut recv) = session.open_bi().await.unwrap();
            // Enough to fill every buffer on the way (quinn's send buffer alone is 10 MB).
            let total = 32 << 20;
            let data = Bytes::from(pattern(total, 3));
            let mut pending = data.clone();
            // Nobody reads the echo: the server's echo blocks, then the server stops reading,
            // then our writes block well before everything is written.
            let blocked = loop {
                let step = tokio::time::timeout(
                    Duration::from_millis(500),
                    std::future::poll_fn(|cx| send.poll_write_chunk(cx, &mut pending)),
                )
                .await;
                match step {
                    Ok(r) => {
                        r.unwrap();
                        if pending.is_empty() {
                            break false;
                        }
                    }
                    Err(_) => break true,
                }
            };
            let written = total - pending.len();
            assert!(blocked, "wrote all {total} bytes without a reader");
            assert!(written < total);
            // Now read slowly while writing the rest.
            let rest = pending;
            let writer = tokio::spawn(async move {
                send.write_chunk(rest).await.unwrap();
                send.finish().unwrap();
            });
            let mut back = Vec::with_capacity(total);
            let mut first = true;
            while let Some(chunk) = recv.read_chunk(256 * 1024).await.unwrap() {
                back.extend_from_slice(&chunk);
                if first {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    first = false;
                }
            }
            writer.await.unwrap();
            assert_eq!(back.len(), total);
            assert!(back == data, "payload differs");
            session.close(0, "");
        })
        .await;
    }

    /// Closing the server endpoint ends the client's session with a connection error.
    pub async fn server_shutdown(s: Stack, c: Stack) {
        init_tracing();
        within(DEADLINE, async {
            let server = demo_server(s);
            let client = server.client(c);
            let session = session(&server, &client, "/echo").await;
            server.endpoint.close();
            let info = session.closed().await;
            assert!(matches!(info.kind, CloseKind::Connection(_)), "{info:?}");
            assert!(session.open_bi().await.is_err());
        })
        .await;
    }
}

macro_rules! pairing {
    ($name:ident, $server:expr, $client:expr) => {
        mod $name {
            use crate::common::Stack;
            pairing!(@cases $server, $client, [
                many_streams,
                datagrams,
                bidi_echo,
                uni_echo,
                server_opened_streams,
                server_close_code,
                client_close_and_resets_reported,
                reject,
                stop_sending_codes,
                concurrency,
                large_payload,
                slow_reader,
                server_shutdown
            ]);
        }
    };
    (@cases $server:expr, $client:expr, [$($case:ident),*]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                crate::cases::$case($server, $client).await;
            }
        )*
    };
}

pairing!(s2n_s2n, Stack::S2n, Stack::S2n);
pairing!(quinn_s2n, Stack::Quinn, Stack::S2n);
pairing!(s2n_quinn, Stack::S2n, Stack::Quinn);
pairing!(quinn_quinn, Stack::Quinn, Stack::Quinn);
