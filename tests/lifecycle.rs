//! Session lifecycle and cleanup: nothing of a session survives its end, whatever ends it;
//! configuration switches; counters.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use wt_proto::pair::Pair;
use wt_proto::*;

fn request(path: &str) -> ConnectRequest {
    ConnectRequest::new(ProtocolToken::WebTransport, "localhost", path)
}

fn config(dialects: &[Dialect]) -> Config {
    Config::default().with(|c| c.dialects = dialects.to_vec())
}

fn server_requests(pair: &mut Pair) -> Vec<SessionId> {
    pair.server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::SessionRequest { session, .. } => Some(session),
            _ => None,
        })
        .collect()
}

fn establish(pair: &mut Pair) -> SessionId {
    pair.run();
    let s = pair.client.connect(request("/echo")).unwrap();
    pair.run();
    for r in server_requests(pair) {
        pair.server
            .accept(r, ConnectResponse::new(StatusCode::OK))
            .unwrap();
    }
    pair.run();
    s
}

fn assert_clean(conn: &Connection) {
    let live = conn.live_entries();
    assert_eq!(
        (
            live.sessions,
            live.send_streams,
            live.recv_streams,
            live.buffered_streams,
            live.buffered_datagrams
        ),
        (0, 0, 0, 0, 0),
        "{:?} {live:?}",
        conn.side()
    );
    assert!(live.critical_streams <= 6);
}

/// Opens and closes 10,000 sessions on one connection, ending them in every way the engine
/// knows, with streams and datagrams in flight, then counts what is left in every map.
#[test]
fn ten_thousand_sessions_leave_nothing_behind() {
    let mut pair = Pair::new();
    pair.trace_payload = false;
    pair.run();
    for i in 0..10_000u32 {
        let s = pair.client.connect(request("/echo")).unwrap();
        pair.run();
        let r = server_requests(&mut pair);
        assert_eq!(r, vec![s]);
        if i % 7 == 6 {
            pair.server
                .reject(s, StatusCode::NOT_FOUND, http::HeaderMap::new())
                .unwrap();
            pair.run();
            pair.client_events();
            continue;
        }
        pair.server
            .accept(s, ConnectResponse::new(StatusCode::OK))
            .unwrap();
        pair.run();
        let uni = pair.client.open_uni(s).unwrap();
        pair.client.write(uni, Bytes::from_static(b"u")).unwrap();
        let bi = pair.client.open_bi(s).unwrap();
        pair.client.write(bi, Bytes::from_static(b"b")).unwrap();
        pair.client
            .send_datagram(s, Bytes::from_static(b"d"))
            .unwrap();
        pair.run();
        match i % 7 {
            0 => pair.client.close_session(s, i, "client").unwrap(),
            1 => pair.server.close_session(s, i, "server").unwrap(),
            2 => pair.inject_to_server(s.stream(), Bytes::new(), true),
            3 => pair
                .server
                .handle_stream_reset(s.stream(), Code::H3_REQUEST_CANCELLED.0),
            4 => pair
                .server
                .handle_stop_sending(s.stream(), Code::WT_SESSION_GONE.0),
            _ => {
                // Streams finish normally first, then the session closes.
                pair.client.finish(uni).unwrap();
                pair.client.finish(bi).unwrap();
                pair.run();
                pair.client.close_session(s, 0, "").unwrap();
            }
        }
        pair.run();
        pair.client_events();
        pair.server_events();
        if i % 1000 == 0 {
            pair.take_trace();
        }
        if i % 7 == 3 || i % 7 == 4 {
            // The injected reset/stop reached only the server; let the client end too.
            if pair.client.session_count() > 0 {
                pair.client.close_session(s, 0, "").unwrap();
                pair.run();
            }
        }
        // A session whose CONNECT stream FIN was injected is still open on the client until
        // the server's FIN arrives; the pair delivered it, so every session is gone.
        assert_eq!(pair.client.session_count(), 0, "iteration {i}");
        assert_eq!(pair.server.session_count(), 0, "iteration {i}");
    }
    assert!(pair.wire_errors().is_empty(), "{:?}", pair.wire_errors());
    assert_clean(&pair.client);
    assert_clean(&pair.server);
    let stats = pair.server.stats();
    assert_eq!(stats.sessions_created, 10_000);
    assert_eq!(stats.sessions_rejected, 1428);
    assert_eq!(stats.sessions_accepted, 10_000 - 1428);
    assert_eq!(stats.sessions_closed, 10_000 - 1428);
}

#[test]
fn idle_timeout_closes_the_session() {
    // Only the session's timer: the connection's own idle timeout is off here.
    let client = Config::default().with(|c| c.connection_idle_timeout = None);
    let server = client
        .clone()
        .with(|c| c.session_idle_timeout = Some(Duration::from_secs(10)));
    let mut pair = Pair::with_configs(client, server);
    let s = establish(&mut pair);
    pair.take_trace();
    assert!(pair.server.poll_timeout().is_some());
    // Activity keeps it alive.
    pair.advance(Duration::from_secs(6));
    pair.client
        .send_datagram(s, Bytes::from_static(b"keepalive"))
        .unwrap();
    pair.run();
    pair.advance(Duration::from_secs(6));
    assert_eq!(pair.server.session_count(), 1);
    // Silence ends it.
    pair.advance(Duration::from_secs(11));
    pair.advance(Duration::from_secs(11));
    assert_eq!(pair.server.session_count(), 0);
    assert!(pair.server_events().iter().any(|e| matches!(
        e,
        Event::SessionClosed {
            cause: CloseCause::IdleTimeout,
            ..
        }
    )));
    assert_clean(&pair.server);
    assert_clean(&pair.client);
    assert_eq!(pair.server.poll_timeout(), None);
    insta::assert_snapshot!(pair.take_trace());
}

#[test]
fn connection_end_closes_every_session() {
    let mut pair = Pair::with_configs(config(&[Dialect::Draft02]), config(&[Dialect::Draft02]));
    let a = establish(&mut pair);
    let b = establish(&mut pair);
    let st = pair.client.open_bi(a).unwrap();
    pair.client.write(st, Bytes::from_static(b"x")).unwrap();
    pair.run();
    pair.server_events();
    pair.server
        .handle_connection_closed(Code::H3_NO_ERROR, "idle");
    let live = pair.server.live_entries();
    assert_eq!(
        live,
        LiveEntries {
            events: 3,
            ..LiveEntries::default()
        },
        "{live:?}"
    );
    pair.run();
    let closed: Vec<SessionId> = pair
        .server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::SessionClosed {
                session,
                cause: CloseCause::ConnectionClosed,
                ..
            } => Some(session),
            _ => None,
        })
        .collect();
    assert_eq!(closed, vec![a, b]);
    assert!(pair.server.is_closed());
}

#[test]
fn goaway_ends_unprocessed_sessions_and_cleans_up() {
    let mut pair = Pair::with_configs(config(&[Dialect::Draft02]), config(&[Dialect::Draft02]));
    let a = establish(&mut pair);
    pair.take_trace();
    // A new CONNECT is on its way when the server's GOAWAY(4) arrives: the server will never
    // process stream 4, so the client ends that session at once.
    let b = pair.client.connect(request("/late")).unwrap();
    pair.inject_to_client(StreamId(3), frame::Frame::Goaway(4).to_bytes(), false);
    pair.run();
    let client = pair.client_events();
    assert!(client.iter().any(|e| matches!(e, Event::GoAway { id: 4 })));
    assert!(
        client.iter().any(|e| matches!(
            e,
            Event::SessionClosed { session, cause: CloseCause::GoAway, .. } if *session == b
        )),
        "{client:?}"
    );
    assert!(
        client
            .iter()
            .any(|e| matches!(e, Event::SessionDraining { session } if *session == a))
    );
    assert_eq!(
        pair.client.connect(request("/later")),
        Err(SessionError::GoingAway)
    );
    assert_eq!(pair.server.session_count(), 1);
    pair.client.close_session(a, 0, "done").unwrap();
    pair.run();
    assert_clean(&pair.client);
    assert_clean(&pair.server);
    insta::assert_snapshot!(pair.take_trace());
}

#[test]
fn goaway_crossing_a_connect_rejects_it() {
    let mut pair = Pair::with_configs(config(&[Dialect::Draft02]), config(&[Dialect::Draft02]));
    establish(&mut pair);
    pair.server.goaway();
    let b = pair.client.connect(request("/late")).unwrap();
    pair.run();
    let client = pair.client_events();
    assert!(client.iter().any(|e| matches!(
        e,
        Event::SessionClosed { session, cause: CloseCause::Reset(Code::H3_REQUEST_REJECTED), .. }
            if *session == b
    )), "{client:?}");
    assert_eq!(pair.server.session_count(), 1);
}

#[test]
fn webtransport_off_is_plain_http3() {
    let server = Config::default().with(|c| c.webtransport = false);
    let mut pair = Pair::with_configs(Config::default(), server);
    let s = pair.client.connect(request("/echo")).unwrap();
    pair.run();
    assert!(pair.client_events().iter().any(|e| matches!(
        e,
        Event::SessionClosed { session, cause: CloseCause::Unsupported, .. } if *session == s
    )));
    assert_eq!(
        pair.client.connect(request("/echo")),
        Err(SessionError::Unavailable)
    );
    assert!(
        pair.server
            .local_settings()
            .get(settings::id::ENABLE_CONNECT_PROTOCOL)
            .is_none()
    );
    assert_clean(&pair.client);
    // An extended CONNECT sent anyway is malformed without ENABLE_CONNECT_PROTOCOL.
    let req = request("/echo").encode().unwrap();
    let mut block = bytes::BytesMut::new();
    qpack::encode_field_section(&req, &mut block);
    pair.server.handle_stream_data(
        StreamId(4),
        frame::Frame::Headers(block.freeze()).to_bytes(),
        false,
    );
    let actions: Vec<Action> = std::iter::from_fn(|| pair.server.poll_action()).collect();
    assert!(actions.contains(&Action::StopSending {
        stream: StreamId(4),
        code: Code::H3_MESSAGE_ERROR
    }));
    assert!(!pair.server.is_closed());
}

#[test]
fn uni_streams_off() {
    let server = Config::default().with(|c| c.uni_streams = false);
    let mut pair = Pair::with_configs(Config::default(), server);
    let s = establish(&mut pair);
    assert_eq!(pair.server.open_uni(s), Err(StreamError::Disabled));
    let st = pair.client.open_uni(s).unwrap();
    pair.client.write(st, Bytes::from_static(b"x")).unwrap();
    pair.take_trace();
    pair.run();
    assert!(
        pair.trace()
            .contains(&format!("STOP_SENDING {st} H3_STREAM_CREATION_ERROR"))
    );
    // Bidi streams still work.
    let bi = pair.client.open_bi(s).unwrap();
    pair.client.write(bi, Bytes::from_static(b"y")).unwrap();
    pair.run();
    assert!(
        pair.server_events()
            .iter()
            .any(|e| matches!(e, Event::StreamOpened { dir: Dir::Bi, .. }))
    );
}

#[test]
fn bidi_streams_off() {
    let server = Config::default().with(|c| c.bidi_streams = false);
    let mut pair = Pair::with_configs(Config::default(), server);
    let s = establish(&mut pair);
    assert_eq!(pair.server.open_bi(s), Err(StreamError::Disabled));
    let st = pair.client.open_bi(s).unwrap();
    pair.client.write(st, Bytes::from_static(b"x")).unwrap();
    pair.take_trace();
    pair.run();
    let trace = pair.trace();
    assert!(
        trace.contains(&format!("STOP_SENDING {st} H3_STREAM_CREATION_ERROR")),
        "{trace}"
    );
    assert!(
        trace.contains(&format!("RESET_STREAM {st} H3_STREAM_CREATION_ERROR")),
        "{trace}"
    );
}

#[test]
fn counters() {
    let mut pair = Pair::new();
    let s = establish(&mut pair);
    pair.client
        .send_datagram(s, Bytes::from_static(b"d"))
        .unwrap();
    let uni = pair.client.open_uni(s).unwrap();
    pair.client
        .write(uni, Bytes::from_static(b"hello"))
        .unwrap();
    pair.client.finish(uni).unwrap();
    let bi = pair.client.open_bi(s).unwrap();
    pair.client.reset(bi, 3).unwrap();
    pair.run();
    pair.client.close_session(s, 1, "x").unwrap();
    pair.run();
    let c = pair.client.stats();
    let sv = pair.server.stats();
    assert_eq!(
        (c.sessions_created, c.sessions_accepted, c.sessions_closed),
        (1, 1, 1)
    );
    assert_eq!(
        (
            sv.sessions_created,
            sv.sessions_accepted,
            sv.sessions_closed
        ),
        (1, 1, 1)
    );
    assert_eq!((c.datagrams_sent, sv.datagrams_received), (1, 1));
    assert_eq!((c.streams_opened, sv.streams_opened), (2, 2));
    assert!(c.streams_reset >= 1 && sv.streams_reset >= 1);
    assert_eq!((c.capsules_sent, sv.capsules_received), (1, 1));
    assert_eq!(c.bytes_out, sv.bytes_in);
    assert_eq!(sv.bytes_out, c.bytes_in);
    assert!(c.bytes_out > 0);
}

#[test]
fn datagrams_for_closed_sessions_are_dropped_and_counted() {
    let mut pair = Pair::new();
    let s = establish(&mut pair);
    pair.client.close_session(s, 0, "").unwrap();
    pair.run();
    let mut d = bytes::BytesMut::new();
    varint::encode(s.quarter(), &mut d);
    d.extend_from_slice(b"late");
    pair.server.handle_datagram(d.freeze());
    assert_eq!(pair.server.stats().datagrams_dropped, 1);
    assert!(!pair.server.is_closed());
}

#[test]
fn datagram_buffer_is_bounded() {
    let server = Config::default().with(|c| c.max_buffered_datagrams = 3);
    let mut pair = Pair::with_configs(Config::default(), server);
    pair.run();
    let s = pair.client.connect(request("/echo")).unwrap();
    pair.run();
    for i in 0..5u8 {
        pair.client.send_datagram(s, Bytes::from(vec![i])).unwrap();
    }
    pair.run();
    assert_eq!(pair.server.live_entries().buffered_datagrams, 3);
    assert_eq!(pair.server.stats().datagrams_dropped, 2);
    for r in server_requests(&mut pair) {
        pair.server
            .accept(r, ConnectResponse::new(StatusCode::OK))
            .unwrap();
    }
    pair.run();
    let n = pair
        .server_events()
        .iter()
        .filter(|e| matches!(e, Event::Datagram { .. }))
        .count();
    assert_eq!(n, 3);
}

#[test]
fn send_buffer_gives_partial_writes_and_writable_events() {
    let client = Config::default().with(|c| c.stream_send_buffer = 1000);
    let mut pair = Pair::with_configs(client, Config::default());
    let s = establish(&mut pair);
    let st = pair.client.open_bi(s).unwrap();
    // The transport refuses everything: the engine holds at most 1000 bytes.
    pair.client.handle_write_blocked(st, Bytes::new(), false);
    // The 3-byte stream header is queued too.
    assert_eq!(pair.client.write(st, Bytes::from(vec![7u8; 600])), Ok(600));
    assert_eq!(pair.client.write(st, Bytes::from(vec![7u8; 600])), Ok(397));
    assert_eq!(pair.client.write(st, Bytes::from(vec![7u8; 600])), Ok(0));
    pair.client.handle_stream_writable(st);
    pair.run();
    assert!(
        pair.client_events()
            .iter()
            .any(|e| matches!(e, Event::StreamWritable { stream } if *stream == st))
    );
    assert_eq!(pair.client.write(st, Bytes::from(vec![7u8; 600])), Ok(600));
}

#[test]
fn receive_budget_bounds_what_the_transport_reads() {
    let server = Config::default().with(|c| c.stream_recv_buffer = 100);
    let mut pair = Pair::with_configs(Config::default(), server);
    let s = establish(&mut pair);
    let st = pair.client.open_uni(s).unwrap();
    pair.client.write(st, Bytes::from(vec![1u8; 60])).unwrap();
    pair.run();
    assert_eq!(pair.server.recv_budget(st), 40);
    assert_eq!(pair.server.read(st, 10).unwrap().unwrap().len(), 10);
    assert_eq!(pair.server.recv_budget(st), 50);
}

#[test]
fn stream_credit_blocks_opens_until_available() {
    let mut pair = Pair::new();
    let s = establish(&mut pair);
    // The client has opened its 3 critical uni streams; allow one more.
    pair.client.handle_max_streams(Dir::Uni, 4);
    assert!(pair.client.open_uni(s).is_ok());
    assert_eq!(pair.client.open_uni(s), Err(StreamError::StreamsBlocked));
    pair.client.handle_max_streams(Dir::Uni, 5);
    assert!(matches!(
        pair.client.poll_event(),
        Some(Event::StreamsAvailable { dir: Dir::Uni })
    ));
    assert!(pair.client.open_uni(s).is_ok());
}

#[test]
fn client_waits_for_server_settings_before_connect() {
    let mut pair = Pair::new();
    // connect() before anything was exchanged: the id comes at once, the CONNECT waits.
    let s = pair.client.connect(request("/echo")).unwrap();
    let early: Vec<Action> = std::iter::from_fn(|| pair.client.poll_action()).collect();
    assert!(
        !early
            .iter()
            .any(|a| matches!(a, Action::Write { stream, .. } if *stream == s.stream())),
        "{early:?}"
    );
    // Deliver the client's own streams, then the server's SETTINGS: now the CONNECT goes out.
    for a in early {
        if let Action::Write { stream, data, fin } = a {
            pair.server.handle_stream_data(stream, data, fin);
        }
    }
    pair.run();
    assert!(
        pair.server_events()
            .iter()
            .any(|e| matches!(e, Event::SessionRequest { .. }))
    );
}

#[test]
fn server_holds_requests_until_client_settings() {
    let server = Config::default().with(|c| {
        c.max_held_requests = 2;
        c.dialects = vec![Dialect::Draft02];
    });
    let mut pair = Pair::with_configs(Config::default(), server);
    let req = request("/echo").encode().unwrap();
    let mut block = bytes::BytesMut::new();
    qpack::encode_field_section(&req, &mut block);
    let headers = frame::Frame::Headers(block.freeze()).to_bytes();
    // Three CONNECTs before the client's control stream: two are held, the third is refused.
    for id in [0u64, 4, 8] {
        pair.server
            .handle_stream_data(StreamId(id), headers.clone(), false);
    }
    let events: Vec<Event> = std::iter::from_fn(|| pair.server.poll_event()).collect();
    assert!(events.is_empty(), "{events:?}");
    let actions: Vec<Action> = std::iter::from_fn(|| pair.server.poll_action()).collect();
    assert!(actions.contains(&Action::ResetStream {
        stream: StreamId(8),
        code: Code::H3_REQUEST_REJECTED,
        reliable_size: 0
    }));
    // The client's SETTINGS arrive: the held requests are processed, in order.
    let mut settings = bytes::BytesMut::new();
    stream_header::UniStreamHeader::Control.encode(&mut settings);
    frame::Frame::Settings(pair.client.local_settings().clone()).encode(&mut settings);
    pair.server
        .handle_stream_data(StreamId(2), settings.freeze(), false);
    let requested: Vec<SessionId> = std::iter::from_fn(|| pair.server.poll_event())
        .filter_map(|e| match e {
            Event::SessionRequest { session, .. } => Some(session),
            _ => None,
        })
        .collect();
    let after: Vec<Action> = std::iter::from_fn(|| pair.server.poll_action()).collect();
    assert_eq!(
        requested,
        vec![SessionId(StreamId(0)), SessionId(StreamId(4))],
        "{after:?}"
    );
}

#[test]
fn byte_at_a_time_gives_the_same_trace() {
    fn flow(chunk: Option<usize>) -> (String, Vec<String>) {
        let mut pair = Pair::with_configs(config(&[Dialect::Draft02]), config(&[Dialect::Draft02]));
        pair.chunk_size = chunk;
        let s = establish(&mut pair);
        let bi = pair.client.open_bi(s).unwrap();
        pair.client
            .write(bi, Bytes::from_static(b"one byte at a time"))
            .unwrap();
        pair.client.finish(bi).unwrap();
        let uni = pair.client.open_uni(s).unwrap();
        pair.client.write(uni, Bytes::from_static(b"uni")).unwrap();
        pair.client.reset(uni, 77).unwrap();
        pair.run();
        pair.server.close_session(s, 5, "closing reason").unwrap();
        pair.run();
        let events = pair
            .server_events()
            .iter()
            .map(|e| format!("{e:?}"))
            .collect();
        (pair.take_trace(), events)
    }
    let whole = flow(None);
    let bytewise = flow(Some(1));
    assert_eq!(whole, bytewise);
    assert!(
        whole
            .1
            .iter()
            .any(|e| e.contains("StreamReset") && e.contains("Some(77)")),
        "{:?}",
        whole.1
    );
}

#[test]
fn peer_streams_may_arrive_out_of_order() {
    let mut pair = Pair::new();
    let s = establish(&mut pair);
    let first = pair.client.open_bi(s).unwrap();
    pair.client
        .write(first, Bytes::from_static(b"first"))
        .unwrap();
    let second = pair.client.open_bi(s).unwrap();
    pair.client
        .write(second, Bytes::from_static(b"second"))
        .unwrap();
    let writes: Vec<Action> = std::iter::from_fn(|| pair.client.poll_action())
        .filter(|a| matches!(a, Action::Write { .. }))
        .collect();
    // QUIC may deliver the higher-numbered stream first; the lower one is still new.
    let on = |id: StreamId| {
        writes
            .iter()
            .filter(move |a| matches!(a, Action::Write { stream, .. } if *stream == id))
            .cloned()
    };
    let reordered: Vec<Action> = on(second).chain(on(first)).collect();
    for a in reordered {
        if let Action::Write { stream, data, fin } = a {
            pair.server.handle_stream_data(stream, data, fin);
        }
    }
    let opened: Vec<StreamId> = std::iter::from_fn(|| pair.server.poll_event())
        .filter_map(|e| match e {
            Event::StreamOpened { stream, .. } => Some(stream),
            _ => None,
        })
        .collect();
    assert_eq!(opened, vec![second, first]);
    assert_eq!(pair.server.live_entries().out_of_order_streams, 0);
    assert_eq!(
        pair.server.read(first, 100).unwrap().unwrap(),
        Bytes::from_static(b"first")
    );
}

#[test]
fn idle_connection_without_sessions_closes() {
    let mut pair = Pair::new();
    pair.run();
    pair.client_events();
    pair.server_events();
    assert_eq!(
        pair.server.poll_timeout(),
        Some(pair.now() + Duration::from_secs(30))
    );
    pair.advance(Duration::from_secs(29));
    assert!(!pair.server.is_closed());
    pair.advance(Duration::from_secs(2));
    assert!(pair.server.is_closed() && pair.client.is_closed());
    let closed = pair.server_events().into_iter().any(|e| {
        matches!(e, Event::ConnectionClosed { code, local: true, .. } if code == Code::H3_NO_ERROR)
    });
    assert!(closed, "the server reports its idle close");
    assert_eq!(pair.server.poll_timeout(), None);
}

#[test]
fn connection_with_a_session_stays_and_closes_a_full_period_after_it_ends() {
    let mut pair = Pair::new();
    pair.run();
    let session = pair.client.connect(request("/idle")).expect("connect");
    pair.run();
    let requested = server_requests(&mut pair);
    pair.server
        .accept(requested[0], ConnectResponse::new(http::StatusCode::OK))
        .expect("accept");
    pair.run();
    // Two idle periods with a session: nothing closes.
    pair.advance(Duration::from_secs(31));
    pair.advance(Duration::from_secs(31));
    assert!(!pair.server.is_closed() && !pair.client.is_closed());
    pair.client
        .close_session(session, 0, "done")
        .expect("close");
    pair.run();
    // The period in which the session ended counts as used.
    pair.advance(Duration::from_secs(31));
    assert!(!pair.server.is_closed());
    pair.advance(Duration::from_secs(31));
    assert!(pair.server.is_closed() && pair.client.is_closed());
    assert!(pair.wire_errors().is_empty());
}
