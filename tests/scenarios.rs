//! Snapshot traces of whole protocol flows between a client and a server engine.
//!
//! Each test drives a [`Pair`] through one scenario and snapshots the trace: every stream write
//! decoded with the crate's codecs, every reset, stop, datagram and event. `wire_errors()` being
//! empty shows that every byte both engines wrote decodes.

use bytes::Bytes;
use http::StatusCode;
use wt_proto::frame::Frame;
use wt_proto::pair::Pair;
use wt_proto::*;

fn config(dialects: &[Dialect], seed: u64) -> Config {
    Config::default().with(|c| {
        c.dialects = dialects.to_vec();
        c.seed = seed;
    })
}

fn request(path: &str) -> ConnectRequest {
    let mut r = ConnectRequest::new(ProtocolToken::WebTransport, "localhost:4433", path);
    r.origin = Some("https://localhost:4433".into());
    r
}

/// Runs the pair and returns the first `SessionRequest` the server saw.
fn requested(pair: &mut Pair) -> SessionId {
    pair.run();
    pair.server_events()
        .into_iter()
        .find_map(|e| match e {
            Event::SessionRequest { session, .. } => Some(session),
            _ => None,
        })
        .expect("no session request")
}

/// Connects a session to `path` and accepts it; returns the session id (the same on both sides).
fn establish(pair: &mut Pair, path: &str) -> SessionId {
    pair.run();
    let client = pair.client.connect(request(path)).unwrap();
    let server = requested(pair);
    assert_eq!(client, server);
    pair.server
        .accept(server, ConnectResponse::new(StatusCode::OK))
        .unwrap();
    pair.run();
    let events = pair.client_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::SessionEstablished { .. })),
        "{events:?}"
    );
    client
}

/// Reads everything readable on `stream`; returns the bytes and whether FIN was seen.
fn read_all(conn: &mut Connection, stream: StreamId) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    loop {
        match conn.read(stream, usize::MAX) {
            Ok(Some(b)) => out.extend_from_slice(&b),
            Ok(None) => return (out, true),
            Err(_) => return (out, false),
        }
    }
}

/// A small echo application on the server: datagrams back, uni streams back on a new uni
/// stream after FIN, bidi streams echoed in place. Runs until quiet.
fn serve_echo(pair: &mut Pair) {
    let mut uni: std::collections::HashMap<StreamId, Vec<u8>> = Default::default();
    loop {
        pair.run();
        let events = pair.server_events();
        if events.is_empty() {
            break;
        }
        for e in events {
            match e {
                Event::Datagram { session, data } => {
                    pair.server.send_datagram(session, data).unwrap();
                }
                Event::StreamReadable { stream } => {
                    let (data, fin) = read_all(&mut pair.server, stream);
                    if stream.dir() == Dir::Bi {
                        if !data.is_empty() {
                            pair.server.write(stream, Bytes::from(data)).unwrap();
                        }
                        if fin {
                            pair.server.finish(stream).unwrap();
                        }
                    } else {
                        uni.entry(stream).or_default().extend_from_slice(&data);
                        if fin {
                            let session = pair
                                .server
                                .session_of(stream)
                                .unwrap_or(SessionId(StreamId(0)));
                            let body = uni.remove(&stream).unwrap_or_default();
                            let out = pair.server.open_uni(session).unwrap();
                            pair.server.write(out, Bytes::from(body)).unwrap();
                            pair.server.finish(out).unwrap();
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn finish_trace(pair: &mut Pair) -> String {
    pair.run();
    assert!(pair.wire_errors().is_empty(), "{:?}", pair.wire_errors());
    pair.take_trace()
}

fn handshake(dialect: Dialect) -> String {
    let mut pair = Pair::with_configs(
        config(&[dialect], 1),
        Config::default().with(|c| c.seed = 2),
    );
    let s = establish(&mut pair, "/echo");
    assert_eq!(pair.client.dialect(), Some(dialect));
    assert_eq!(pair.server.dialect(), Some(dialect));
    pair.client.close_session(s, 0, "").unwrap();
    finish_trace(&mut pair)
}

#[test]
fn handshake_draft02() {
    insta::assert_snapshot!(handshake(Dialect::Draft02));
}

#[test]
fn handshake_draft07() {
    insta::assert_snapshot!(handshake(Dialect::Draft07));
}

#[test]
fn handshake_draft13() {
    insta::assert_snapshot!(handshake(Dialect::Draft13));
}

#[test]
fn handshake_draft15() {
    insta::assert_snapshot!(handshake(Dialect::Draft15));
}

#[test]
fn datagram_echo() {
    let mut pair = Pair::new();
    let s = establish(&mut pair, "/echo");
    pair.take_trace();
    pair.client
        .send_datagram(s, Bytes::from_static(b"ping 1"))
        .unwrap();
    pair.client
        .send_datagram(s, Bytes::from_static(b"ping 2"))
        .unwrap();
    serve_echo(&mut pair);
    let got: Vec<Event> = pair.client_events();
    assert_eq!(
        got.iter()
            .filter(|e| matches!(e, Event::Datagram { .. }))
            .count(),
        2
    );
    assert_eq!(pair.client.stats().datagrams_received, 2);
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn uni_echo() {
    let mut pair = Pair::new();
    let s = establish(&mut pair, "/echo");
    pair.take_trace();
    let st = pair.client.open_uni(s).unwrap();
    pair.client
        .write(st, Bytes::from_static(b"hello uni"))
        .unwrap();
    pair.client.finish(st).unwrap();
    serve_echo(&mut pair);
    let opened = pair.client_events().into_iter().find_map(|e| match e {
        Event::StreamOpened {
            stream,
            dir: Dir::Uni,
            ..
        } => Some(stream),
        _ => None,
    });
    let back = opened.expect("no echo stream");
    assert_eq!(
        read_all(&mut pair.client, back),
        (b"hello uni".to_vec(), true)
    );
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn bidi_echo() {
    let mut pair = Pair::new();
    let s = establish(&mut pair, "/echo");
    pair.take_trace();
    let st = pair.client.open_bi(s).unwrap();
    pair.client
        .write(st, Bytes::from_static(b"hello bidi"))
        .unwrap();
    pair.client.finish(st).unwrap();
    serve_echo(&mut pair);
    assert_eq!(
        read_all(&mut pair.client, st),
        (b"hello bidi".to_vec(), true)
    );
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn server_opened_streams() {
    let mut pair = Pair::new();
    let s = establish(&mut pair, "/open");
    pair.take_trace();
    let uni = pair.server.open_uni(s).unwrap();
    pair.server
        .write(uni, Bytes::from_static(b"from server uni"))
        .unwrap();
    pair.server.finish(uni).unwrap();
    let bi = pair.server.open_bi(s).unwrap();
    pair.server
        .write(bi, Bytes::from_static(b"from server bidi"))
        .unwrap();
    pair.run();
    let events = pair.client_events();
    let opened: Vec<(StreamId, Dir)> = events
        .iter()
        .filter_map(|e| match e {
            Event::StreamOpened { stream, dir, .. } => Some((*stream, *dir)),
            _ => None,
        })
        .collect();
    assert_eq!(opened, vec![(uni, Dir::Uni), (bi, Dir::Bi)]);
    assert_eq!(
        read_all(&mut pair.client, uni),
        (b"from server uni".to_vec(), true)
    );
    let (data, _) = read_all(&mut pair.client, bi);
    pair.client.write(bi, Bytes::from(data)).unwrap();
    pair.client.finish(bi).unwrap();
    pair.run();
    assert_eq!(
        read_all(&mut pair.server, bi),
        (b"from server bidi".to_vec(), true)
    );
    insta::assert_snapshot!(finish_trace(&mut pair));
}

fn closed(events: &[Event]) -> Vec<(u32, String, CloseCause)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::SessionClosed {
                code,
                reason,
                cause,
                ..
            } => Some((*code, reason.clone(), *cause)),
            _ => None,
        })
        .collect()
}

#[test]
fn server_close_with_code_and_reason() {
    let mut pair = Pair::new();
    let s = establish(&mut pair, "/close");
    let st = pair.client.open_bi(s).unwrap();
    pair.client.write(st, Bytes::from_static(b"x")).unwrap();
    pair.run();
    pair.take_trace();
    pair.server.close_session(s, 42, "bye").unwrap();
    pair.run();
    assert_eq!(
        closed(&pair.client_events()),
        vec![(42, "bye".into(), CloseCause::Remote)]
    );
    assert_eq!(
        closed(&pair.server_events()),
        vec![(42, "bye".into(), CloseCause::Local)]
    );
    // Nothing of the session is left on either side.
    for conn in [&pair.client, &pair.server] {
        let live = conn.live_entries();
        assert_eq!(
            (live.sessions, live.send_streams, live.recv_streams),
            (0, 0, 0),
            "{live:?}"
        );
    }
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn client_close() {
    let mut pair = Pair::new();
    let s = establish(&mut pair, "/echo");
    pair.take_trace();
    pair.client.close_session(s, 7, "client-bye").unwrap();
    pair.run();
    assert_eq!(
        closed(&pair.server_events()),
        vec![(7, "client-bye".into(), CloseCause::Remote)]
    );
    assert!(
        pair.client
            .send_datagram(s, Bytes::from_static(b"late"))
            .is_err()
    );
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn close_by_clean_fin() {
    let mut pair = Pair::new();
    let s = establish(&mut pair, "/echo");
    pair.take_trace();
    // The client finishes the CONNECT stream without a capsule (as browsers often do).
    pair.inject_to_server(s.stream(), Bytes::new(), true);
    pair.run();
    assert_eq!(
        closed(&pair.server_events()),
        vec![(0, String::new(), CloseCause::RemoteFin)]
    );
    insta::assert_snapshot!(finish_trace(&mut pair));
}

fn reject(status: StatusCode) -> String {
    let mut pair = Pair::new();
    pair.run();
    let c = pair.client.connect(request("/nope")).unwrap();
    let s = requested(&mut pair);
    let mut headers = http::HeaderMap::new();
    headers.insert("x-reason", "not here".parse().unwrap());
    pair.server.reject(s, status, headers).unwrap();
    pair.run();
    let rejected = pair.client_events().into_iter().find_map(|e| match e {
        Event::SessionRejected {
            session, status, ..
        } => Some((session, status)),
        _ => None,
    });
    assert_eq!(rejected, Some((c, status)));
    assert_eq!(pair.client.session_count(), 0);
    assert_eq!(pair.server.session_count(), 0);
    finish_trace(&mut pair)
}

#[test]
fn reject_404() {
    insta::assert_snapshot!(reject(StatusCode::NOT_FOUND));
}

#[test]
fn reject_403() {
    insta::assert_snapshot!(reject(StatusCode::FORBIDDEN));
}

#[test]
fn drain() {
    let mut pair = Pair::new();
    let s = establish(&mut pair, "/echo");
    pair.take_trace();
    pair.server.drain_session(s).unwrap();
    pair.run();
    assert!(
        pair.client_events()
            .iter()
            .any(|e| matches!(e, Event::SessionDraining { .. }))
    );
    // Streams and datagrams still work after DRAIN.
    pair.client
        .send_datagram(s, Bytes::from_static(b"still here"))
        .unwrap();
    serve_echo(&mut pair);
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn drain_is_not_in_draft02() {
    let mut pair = Pair::with_configs(config(&[Dialect::Draft02], 1), Config::default());
    let s = establish(&mut pair, "/echo");
    assert_eq!(
        pair.server.drain_session(s),
        Err(SessionError::NotInDialect)
    );
}

#[test]
fn goaway() {
    let mut pair = Pair::new();
    let s = establish(&mut pair, "/echo");
    pair.take_trace();
    pair.server.goaway();
    pair.run();
    let events = pair.client_events();
    assert!(
        events.iter().any(|e| matches!(e, Event::GoAway { id: 4 })),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::SessionDraining { .. }))
    );
    // No new sessions, but the existing one still works.
    assert_eq!(
        pair.client.connect(request("/echo")),
        Err(SessionError::GoingAway)
    );
    pair.client
        .send_datagram(s, Bytes::from_static(b"after goaway"))
        .unwrap();
    serve_echo(&mut pair);
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn reset_and_stop_with_application_codes() {
    let mut pair = Pair::new();
    let s = establish(&mut pair, "/echo");
    pair.take_trace();
    let a = pair.client.open_bi(s).unwrap();
    pair.client.write(a, Bytes::from_static(b"x")).unwrap();
    let b = pair.client.open_bi(s).unwrap();
    pair.client.write(b, Bytes::from_static(b"y")).unwrap();
    pair.run();
    pair.server_events();
    pair.client.reset(a, 7).unwrap();
    pair.server.stop(b, 255).unwrap();
    pair.run();
    let server = pair.server_events();
    assert!(
        server
            .iter()
            .any(|e| matches!(e, Event::StreamReset { stream, code: Some(7) } if *stream == a))
    );
    let client = pair.client_events();
    assert!(
        client
            .iter()
            .any(|e| matches!(e, Event::StreamStopped { stream, code: Some(255) } if *stream == b))
    );
    // A large code survives the mapping both ways.
    let c = pair.server.open_uni(s).unwrap();
    pair.server.reset(c, u32::MAX).unwrap();
    pair.run();
    let client = pair.client_events();
    assert!(
        client.iter().any(|e| matches!(
            e,
            Event::StreamReset {
                code: Some(u32::MAX),
                ..
            }
        )),
        "{client:?}"
    );
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn streams_and_datagrams_before_accept() {
    let mut pair = Pair::new();
    pair.run();
    let c = pair.client.connect(request("/echo")).unwrap();
    pair.run();
    // The client may send before the response (draft-ietf-webtrans-http3 §4.6).
    let uni = pair.client.open_uni(c).unwrap();
    pair.client
        .write(uni, Bytes::from_static(b"early uni"))
        .unwrap();
    pair.client.finish(uni).unwrap();
    let bi = pair.client.open_bi(c).unwrap();
    pair.client
        .write(bi, Bytes::from_static(b"early bidi"))
        .unwrap();
    pair.client
        .send_datagram(c, Bytes::from_static(b"early datagram"))
        .unwrap();
    pair.run();
    let s = pair
        .server_events()
        .into_iter()
        .find_map(|e| match e {
            Event::SessionRequest { session, .. } => Some(session),
            _ => None,
        })
        .unwrap();
    assert_eq!(pair.server.live_entries().buffered_streams, 2);
    assert_eq!(pair.server.live_entries().buffered_datagrams, 1);
    pair.note("server accepts: held streams and datagrams are released");
    pair.server
        .accept(s, ConnectResponse::new(StatusCode::OK))
        .unwrap();
    pair.run();
    let events = pair.server_events();
    assert!(events.iter().any(|e| matches!(e, Event::Datagram { .. })));
    assert_eq!(
        read_all(&mut pair.server, uni),
        (b"early uni".to_vec(), true)
    );
    assert_eq!(read_all(&mut pair.server, bi).0, b"early bidi".to_vec());
    assert_eq!(pair.server.live_entries().buffered_streams, 0);
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn buffered_stream_overflow_refused() {
    let server = Config::default().with(|c| {
        c.max_buffered_streams = 2;
        c.seed = 2;
    });
    let mut pair = Pair::with_configs(Config::default().with(|c| c.seed = 1), server);
    pair.run();
    let c = pair.client.connect(request("/echo")).unwrap();
    pair.run();
    for i in 0..3u8 {
        let st = pair.client.open_uni(c).unwrap();
        pair.client.write(st, Bytes::from(vec![b'a' + i])).unwrap();
    }
    pair.run();
    assert_eq!(pair.server.stats().streams_refused, 1);
    assert_eq!(pair.server.live_entries().buffered_streams, 2);
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn buffered_stream_default_limit_is_24() {
    let mut pair = Pair::new();
    pair.trace_payload = false;
    pair.run();
    let c = pair.client.connect(request("/echo")).unwrap();
    pair.run();
    for _ in 0..30 {
        let st = pair.client.open_uni(c).unwrap();
        pair.client.write(st, Bytes::from_static(b"z")).unwrap();
    }
    pair.run();
    assert_eq!(pair.server.live_entries().buffered_streams, 24);
    assert_eq!(pair.server.stats().streams_refused, 6);
    let refused = pair.trace().matches("STOP_SENDING").count();
    assert_eq!(refused, 6);
    assert!(pair.trace().contains("WT_BUFFERED_STREAM_REJECTED"));
}

#[test]
fn unknown_capsule_skipped() {
    let mut pair = Pair::new();
    let s = establish(&mut pair, "/echo");
    pair.take_trace();
    // A grease capsule (type 0x29*N+0x17, 8-byte varint, like Chromium's) inside a DATA frame.
    let capsule = capsule::Capsule::Unknown {
        capsule_type: 0x29 * 0x1234_5678 + 0x17,
        len: 5,
    }
    .to_bytes();
    pair.inject_to_server(s.stream(), Frame::Data(capsule).to_bytes(), false);
    pair.client
        .send_datagram(s, Bytes::from_static(b"still alive"))
        .unwrap();
    serve_echo(&mut pair);
    assert_eq!(pair.server.session_count(), 1);
    assert!(
        pair.client_events()
            .iter()
            .any(|e| matches!(e, Event::Datagram { .. }))
    );
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn two_sessions_on_one_connection() {
    let mut pair = Pair::with_configs(
        config(&[Dialect::Draft02], 1),
        config(&[Dialect::Draft02], 2),
    );
    let a = establish(&mut pair, "/one");
    let b = establish(&mut pair, "/two");
    assert_ne!(a, b);
    pair.take_trace();
    pair.client
        .send_datagram(a, Bytes::from_static(b"to a"))
        .unwrap();
    pair.client
        .send_datagram(b, Bytes::from_static(b"to b"))
        .unwrap();
    serve_echo(&mut pair);
    let got: Vec<(SessionId, Bytes)> = pair
        .client_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Datagram { session, data } => Some((session, data)),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (a, Bytes::from_static(b"to a")),
            (b, Bytes::from_static(b"to b"))
        ]
    );
    pair.client.close_session(a, 1, "first").unwrap();
    pair.run();
    assert_eq!(pair.server.session_count(), 1);
    pair.client
        .send_datagram(b, Bytes::from_static(b"b lives"))
        .unwrap();
    serve_echo(&mut pair);
    insta::assert_snapshot!(finish_trace(&mut pair));
}

#[test]
fn draft15_allows_one_session_without_flow_control() {
    let mut pair = Pair::new();
    establish(&mut pair, "/one");
    assert_eq!(
        pair.client.connect(request("/two")),
        Err(SessionError::TooManySessions)
    );
}

fn get_request(path: &str) -> Bytes {
    let req = http::Request::get(format!("https://localhost{path}"))
        .body(())
        .unwrap();
    let mut block = bytes::BytesMut::new();
    qpack::encode_field_section(&headers::encode_request(&req), &mut block);
    Frame::Headers(block.freeze()).to_bytes()
}

#[test]
fn plain_get_answered_404() {
    let mut pair = Pair::new();
    pair.run();
    pair.take_trace();
    pair.inject_to_server(StreamId(0), get_request("/index.html"), true);
    let actions: Vec<Action> = std::iter::from_fn(|| pair.server.poll_action()).collect();
    let text = format!("{actions:?}");
    let mut wire = trace::WireDecoder::new();
    let mut lines = vec![pair.take_trace()];
    for a in &actions {
        match a {
            Action::Write { stream, data, fin } => lines.push(format!(
                "server -> client stream {stream}: {}",
                wire.write(Side::Server, *stream, data, *fin)
            )),
            other => lines.push(format!("server: {other:?}")),
        }
    }
    assert!(text.contains("Write"), "{text}");
    assert!(wire.errors().is_empty());
    let trace = lines.join("\n");
    assert!(trace.contains(":status: 404"));
    insta::assert_snapshot!(trace);
}

#[test]
fn plain_get_with_handler() {
    let server = Config::default().with(|c| {
        c.handle_requests = true;
        c.seed = 2;
    });
    let mut pair = Pair::with_configs(Config::default(), server);
    pair.run();
    pair.server
        .handle_stream_data(StreamId(0), get_request("/hello"), true);
    let stream = pair
        .server
        .poll_event()
        .into_iter()
        .chain(std::iter::from_fn(|| pair.server.poll_event()))
        .find_map(|e| match e {
            Event::Request { stream, request } => {
                assert_eq!(request.uri().path(), "/hello");
                Some(stream)
            }
            _ => None,
        })
        .unwrap();
    let response = http::Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(())
        .unwrap();
    pair.server
        .respond(stream, response, Some(Bytes::from_static(b"hi")))
        .unwrap();
    let writes: Vec<Action> = std::iter::from_fn(|| pair.server.poll_action()).collect();
    let mut wire = trace::WireDecoder::new();
    let text: Vec<String> = writes
        .iter()
        .filter_map(|a| match a {
            Action::Write { stream, data, fin } if stream.0 == 0 => {
                Some(wire.write(Side::Server, *stream, data, *fin))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        text.join(" | "),
        "HEADERS [:status: 200, content-type: text/plain] | DATA len=2 | body \"hi\" | FIN"
    );
}
