//! The defects an engine review found (state kept in some paths and forgotten in others), one
//! test each. Every test here failed on the engine before its fix.

mod common;

use common::*;

/// The actions of `out` on `stream` that write bytes or a FIN.
fn writes(out: &Outcome, stream: StreamId) -> Vec<(Bytes, bool)> {
    out.actions
        .iter()
        .filter_map(|a| match a {
            Action::Write {
                stream: s,
                data,
                fin,
            } if *s == stream => Some((data.clone(), *fin)),
            _ => None,
        })
        .collect()
}

fn opened(out: &Outcome, stream: StreamId) -> Option<SessionId> {
    out.events.iter().find_map(|e| match e {
        Event::StreamOpened {
            session, stream: s, ..
        } if *s == stream => Some(*session),
        _ => None,
    })
}

/// A WebTransport uni stream of session 0 carrying `payload`, then FIN.
fn wt_uni(payload: &[u8]) -> Bytes {
    let mut bytes = UniStreamHeader::WebTransport(0).to_bytes().to_vec();
    bytes.extend_from_slice(payload);
    Bytes::from(bytes)
}

// ---------------------------------------------------------------------------------------------
// A stream that arrives before its CONNECT (draft §4.6 lets a client send both in one flight)
// ---------------------------------------------------------------------------------------------

#[test]
fn stream_before_its_connect_is_released_when_the_session_is_accepted() {
    let mut pair = settled();
    pair.server
        .handle_stream_data(CLIENT_UNI_A, wt_uni(b"early"), true);
    assert_eq!(pair.server.live_entries().buffered_streams, 1);
    pair.server
        .handle_stream_data(BIDI_0, Bytes::from(default_connect()), false);
    assert!(collect(&mut pair.server).has_session_request());
    pair.server
        .accept(
            SessionId(BIDI_0),
            ConnectResponse::new(http::StatusCode::OK),
        )
        .expect("accept");
    let out = collect(&mut pair.server);
    assert_eq!(
        opened(&out, CLIENT_UNI_A),
        Some(SessionId(BIDI_0)),
        "the early stream is reported with its session: {:?}",
        out.events
    );
    assert_eq!(read_to_end(&mut pair.server, CLIENT_UNI_A), b"early");
    assert_eq!(pair.server.live_entries().buffered_streams, 0);
}

#[test]
fn stream_before_its_connect_is_refused_when_the_session_is_rejected() {
    let mut pair = settled();
    pair.server
        .handle_stream_data(CLIENT_UNI_A, wt_uni(b"early"), false);
    pair.server
        .handle_stream_data(BIDI_0, Bytes::from(default_connect()), false);
    collect(&mut pair.server);
    pair.server
        .reject(
            SessionId(BIDI_0),
            http::StatusCode::NOT_FOUND,
            http::HeaderMap::new(),
        )
        .expect("reject");
    let out = collect(&mut pair.server);
    assert_eq!(out.stops(CLIENT_UNI_A), vec![Code::WT_SESSION_GONE]);
    let live = pair.server.live_entries();
    // Only the CONNECT stream is left, read and dropped until the client's FIN.
    assert_eq!(
        (live.buffered_streams, live.recv_streams),
        (0, 1),
        "{live:?}"
    );
    assert_eq!(pair.server.session_of(CLIENT_UNI_A), None);
}

#[test]
fn stream_before_a_plain_request_is_refused() {
    let mut pair = settled();
    pair.server
        .handle_stream_data(CLIENT_UNI_A, wt_uni(b"early"), false);
    let get = headers_frame(&[
        FieldLine::new(":method", "GET"),
        FieldLine::new(":scheme", "https"),
        FieldLine::new(":authority", "example.com"),
        FieldLine::new(":path", "/"),
    ]);
    pair.server
        .handle_stream_data(BIDI_0, Bytes::from(get), true);
    let out = collect(&mut pair.server);
    assert_open(&out, "plain request");
    assert_eq!(out.stops(CLIENT_UNI_A), vec![Code::WT_SESSION_GONE]);
    assert_eq!(pair.server.live_entries().buffered_streams, 0);
}

// ---------------------------------------------------------------------------------------------
// GOAWAY refuses new requests, not new streams of existing sessions
// ---------------------------------------------------------------------------------------------

#[test]
fn after_goaway_sessions_still_open_bidi_streams() {
    let mut pair = one_session();
    let s = SessionId(BIDI_0);
    pair.server.goaway();
    pair.run();
    pair.client_events();
    let stream = pair.client.open_bi(s).expect("open_bi");
    pair.client
        .write(stream, Bytes::from_static(b"after goaway"))
        .expect("write");
    pair.client.handle_stream_writable(stream);
    let actions: Vec<Action> = std::iter::from_fn(|| pair.client.poll_action()).collect();
    deliver(&mut pair.server, &actions);
    let out = collect(&mut pair.server);
    assert!(out.resets(stream).is_empty(), "{:?}", out.actions);
    assert_eq!(opened(&out, stream), Some(s), "{:?}", out.events);
    assert_eq!(
        read_to_end_or_pending(&mut pair.server, stream),
        b"after goaway"
    );
}

/// Reads what is buffered on `stream` without requiring its FIN.
fn read_to_end_or_pending(conn: &mut Connection, stream: StreamId) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = conn.read(stream, usize::MAX) {
        if chunk.is_empty() {
            break;
        }
        out.extend_from_slice(&chunk);
    }
    out
}

#[test]
fn after_goaway_new_requests_are_still_rejected() {
    let mut pair = one_session();
    pair.server.goaway();
    collect(&mut pair.server);
    pair.server
        .handle_stream_data(StreamId(4), Bytes::from(default_connect()), false);
    let out = collect(&mut pair.server);
    assert!(!out.has_session_request());
    assert_eq!(out.resets(StreamId(4)), vec![Code::H3_REQUEST_REJECTED]);
    assert_eq!(out.stops(StreamId(4)), vec![Code::H3_REQUEST_REJECTED]);
}

// ---------------------------------------------------------------------------------------------
// CANCEL_PUSH at a server (RFC 9114 §7.2.3)
// ---------------------------------------------------------------------------------------------

#[test]
fn cancel_push_at_a_server_that_never_promised_is_id_error() {
    let input = concat(&[&frame(Frame::MaxPushId(5)), &frame(Frame::CancelPush(1))]);
    expect_conn_error(
        settled,
        Side::Server,
        CLIENT_CONTROL,
        &input,
        false,
        Code::H3_ID_ERROR,
    );
}

// ---------------------------------------------------------------------------------------------
// A draft-07 client honours SETTINGS_WEBTRANSPORT_MAX_SESSIONS
// ---------------------------------------------------------------------------------------------

fn draft07(max_sessions: u64) -> Config {
    Config::default().with(|c| {
        c.dialects = vec![Dialect::Draft07];
        c.max_sessions = max_sessions;
    })
}

#[test]
fn draft07_client_stays_within_the_servers_session_limit() {
    let (client, _) = configs(draft07(16));
    let (_, server) = configs(draft07(1));
    let mut pair = settled_with_configs(client, server);
    assert_eq!(pair.client.dialect(), Some(Dialect::Draft07));
    establish(&mut pair, "/first");
    let second = pair.client.connect(ConnectRequest::new(
        ProtocolToken::WebTransport,
        "example.com",
        "/second",
    ));
    assert_eq!(
        second.err(),
        Some(wt_proto::SessionError::TooManySessions),
        "the server allows one session"
    );
}

#[test]
fn draft07_client_holds_connects_beyond_the_servers_limit_until_a_session_ends() {
    let (client, _) = configs(draft07(16));
    let (_, server) = configs(draft07(1));
    let mut pair = Pair::with_configs(client, server);
    let request = |path| ConnectRequest::new(ProtocolToken::WebTransport, "example.com", path);
    // Both before the server's SETTINGS: the limit is not known yet.
    let a = pair.client.connect(request("/a")).expect("a");
    let b = pair.client.connect(request("/b")).expect("b");
    pair.run();
    let requested: Vec<SessionId> = pair
        .server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::SessionRequest { session, .. } => Some(session),
            _ => None,
        })
        .collect();
    assert_eq!(requested, vec![a], "only one CONNECT within the limit");
    pair.server
        .accept(a, ConnectResponse::new(http::StatusCode::OK))
        .expect("accept");
    pair.run();
    pair.client.close_session(a, 0, "done").expect("close a");
    pair.run();
    let requested: Vec<SessionId> = pair
        .server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::SessionRequest { session, .. } => Some(session),
            _ => None,
        })
        .collect();
    assert_eq!(requested, vec![b], "the held CONNECT goes out once a ends");
    assert!(pair.wire_errors().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Without WebTransport, its stream type and signal are unknown types (RFC 9114 §6.2, §9)
// ---------------------------------------------------------------------------------------------

fn no_webtransport() -> Pair {
    let (client, _) = configs(Config::default());
    let (_, server) = configs(Config::default().with(|c| c.webtransport = false));
    settled_with_configs(client, server)
}

#[test]
fn without_webtransport_a_wt_uni_stream_is_an_unknown_stream_type() {
    // Session id 2 is not a client bidi stream: with WebTransport on, H3_ID_ERROR.
    let mut bytes = UniStreamHeader::WebTransport(2).to_bytes().to_vec();
    bytes.extend_from_slice(b"payload");
    let results = expect_no_conn_error(no_webtransport, Side::Server, CLIENT_UNI_A, &bytes, false);
    for (_, out) in results {
        assert_eq!(
            out.stops(CLIENT_UNI_A),
            vec![Code::H3_STREAM_CREATION_ERROR]
        );
    }
}

#[test]
fn without_webtransport_the_bidi_signal_is_an_unknown_frame_type() {
    // 0x41 followed by what WebTransport would read as a session id (here: an invalid one, 2)
    // and is, as an unknown frame, its length; then a GET.
    let get = headers_frame(&[
        FieldLine::new(":method", "GET"),
        FieldLine::new(":scheme", "https"),
        FieldLine::new(":authority", "example.com"),
        FieldLine::new(":path", "/"),
    ]);
    let input = concat(&[&raw_frame(0x41, 2, b"xy"), &get]);
    let results = expect_no_conn_error(no_webtransport, Side::Server, BIDI_0, &input, true);
    for (_, out) in results {
        let answered = writes(&out, BIDI_0).iter().any(|(_, fin)| *fin);
        assert!(answered, "the GET is answered: {:?}", out.actions);
    }
}

// ---------------------------------------------------------------------------------------------
// A client FIN on the CONNECT stream before the server answered
// ---------------------------------------------------------------------------------------------

#[test]
fn client_fin_before_the_response_is_not_answered_with_a_bare_fin() {
    let mut pair = requested();
    pair.server.handle_stream_data(BIDI_0, Bytes::new(), true);
    let out = collect(&mut pair.server);
    let bare_fin = writes(&out, BIDI_0)
        .iter()
        .any(|(data, fin)| *fin && data.is_empty());
    assert!(!bare_fin, "a bare FIN is no response: {:?}", out.actions);
    assert_eq!(out.resets(BIDI_0), vec![Code::H3_REQUEST_CANCELLED]);
    assert_eq!(
        out.session_closed(SessionId(BIDI_0)),
        vec![(0, String::new(), CloseCause::RemoteFin)]
    );
    assert_eq!(pair.server.live_entries().send_streams, 0);
}

// ---------------------------------------------------------------------------------------------
// A buffered bidi stream reset by the peer before accept
// ---------------------------------------------------------------------------------------------

#[test]
fn buffered_bidi_stream_reset_before_accept_is_forgotten_with_both_halves() {
    let mut pair = requested();
    let s = SessionId(BIDI_0);
    let stream = pair
        .client
        .open_bi(s)
        .expect("client may open before the response");
    pair.client
        .write(stream, Bytes::from_static(b"early"))
        .expect("write");
    pair.run();
    assert_eq!(pair.server.live_entries().buffered_streams, 1);
    pair.client.reset(stream, 5).expect("reset");
    let actions: Vec<Action> = std::iter::from_fn(|| pair.client.poll_action()).collect();
    deliver(&mut pair.server, &actions);
    let out = collect(&mut pair.server);
    assert_eq!(out.resets(stream).len(), 1, "our send half is reset too");
    assert_eq!(pair.server.session_of(stream), None);
    pair.server
        .accept(s, ConnectResponse::new(http::StatusCode::OK))
        .expect("accept");
    let out = collect(&mut pair.server);
    assert_eq!(opened(&out, stream), None);
    let live = pair.server.live_entries();
    assert_eq!(
        (live.buffered_streams, live.send_streams, live.recv_streams),
        (0, 1, 1),
        "only the CONNECT stream remains: {live:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Datagrams for sessions that can never exist
// ---------------------------------------------------------------------------------------------

fn datagram(session: u64, payload: &[u8]) -> Bytes {
    let mut out = varint_bytes(session / 4);
    out.extend_from_slice(payload);
    Bytes::from(out)
}

#[test]
fn client_drops_datagrams_for_sessions_it_never_opened() {
    let mut pair = one_session();
    pair.client.handle_datagram(datagram(8, b"x"));
    pair.client.handle_datagram(datagram(400, b"x"));
    let out = collect(&mut pair.client);
    assert_open(&out, "datagram for a session the client never opened");
    assert_eq!(pair.client.live_entries().buffered_datagrams, 0);
}

#[test]
fn server_aborts_a_plain_request_named_by_a_datagram() {
    let (client, _) = configs(Config::default());
    let (_, server) = configs(Config::default().with(|c| c.handle_requests = true));
    let mut pair = settled_with_configs(client, server);
    let get = headers_frame(&[
        FieldLine::new(":method", "GET"),
        FieldLine::new(":scheme", "https"),
        FieldLine::new(":authority", "example.com"),
        FieldLine::new(":path", "/"),
    ]);
    pair.server
        .handle_stream_data(BIDI_0, Bytes::from(get), false);
    collect(&mut pair.server);
    pair.server.handle_datagram(datagram(0, b"x"));
    let out = collect(&mut pair.server);
    assert_open(&out, "datagram naming a GET");
    assert_eq!(pair.server.live_entries().buffered_datagrams, 0);
    assert_eq!(out.resets(BIDI_0), vec![Code::H3_DATAGRAM_ERROR]);
    assert_eq!(out.stops(BIDI_0), vec![Code::H3_DATAGRAM_ERROR]);
}

// ---------------------------------------------------------------------------------------------
// An oversized request header section is a request error, not a connection error
// ---------------------------------------------------------------------------------------------

#[test]
fn oversized_request_headers_fail_the_request_only() {
    let mut pair = one_session();
    let limit = Config::default().max_field_section_size;
    let block = vec![0u8; usize::try_from(limit).unwrap() + 4096];
    let big = raw_frame(frame::ty::HEADERS, block.len() as u64, &block);
    pair.server
        .handle_stream_data(StreamId(4), Bytes::from(big), false);
    let out = collect(&mut pair.server);
    assert_open(&out, "oversized HEADERS");
    let answered = writes(&out, StreamId(4)).iter().any(|(_, fin)| *fin)
        || !out.resets(StreamId(4)).is_empty();
    assert!(answered, "the request is refused: {:?}", out.actions);
    assert_eq!(out.stops(StreamId(4)).len(), 1);
    assert_session_works_briefly(&mut pair, SessionId(BIDI_0));
}

fn assert_session_works_briefly(pair: &mut Pair, s: SessionId) {
    pair.client
        .send_datagram(s, Bytes::from_static(b"still here"))
        .expect("datagram");
    pair.run();
    let got = pair
        .server_events()
        .into_iter()
        .any(|e| matches!(e, Event::Datagram { session, .. } if session == s));
    assert!(got, "the session still works");
}

// ---------------------------------------------------------------------------------------------
// handle_write_blocked must not make send entries that belong to no session
// ---------------------------------------------------------------------------------------------

#[test]
fn write_blocked_after_a_popped_fin_keeps_the_stream_in_its_session() {
    let mut pair = one_session();
    let s = SessionId(BIDI_0);
    let stream = pair.client.open_uni(s).expect("open_uni");
    pair.client
        .write(stream, Bytes::from_static(b"abc"))
        .expect("write");
    pair.client.finish(stream).expect("finish");
    // The transport cannot take the FIN write and hands all of it back at once.
    let data = std::iter::from_fn(|| pair.client.poll_action())
        .find_map(|a| match a {
            Action::Write {
                stream: st,
                data,
                fin: true,
            } if st == stream => Some(data),
            _ => None,
        })
        .expect("the FIN write");
    pair.client.handle_write_blocked(stream, data, true);
    assert_eq!(pair.client.session_of(stream), Some(s));
    pair.client.close_session(s, 0, "").expect("close");
    let out = collect(&mut pair.client);
    assert_eq!(out.resets(stream), vec![Code::WT_SESSION_GONE]);
    assert_eq!(pair.client.live_entries().send_streams, 0);
}

#[test]
fn write_blocked_on_a_reset_stream_is_ignored() {
    let mut pair = one_session();
    let s = SessionId(BIDI_0);
    let before = pair.client.live_entries().send_streams;
    let stream = pair.client.open_uni(s).expect("open_uni");
    pair.client.reset(stream, 1).expect("reset");
    // The reset first hands the stream header to the transport, which cannot take it.
    let out = collect(&mut pair.client);
    let (header, _) = writes(&out, stream)
        .into_iter()
        .next()
        .expect("header write");
    pair.client.handle_write_blocked(stream, header, false);
    assert_eq!(pair.client.live_entries().send_streams, before);
    assert_eq!(collect(&mut pair.client).actions.len(), 0);
}

// ---------------------------------------------------------------------------------------------
// STOP_SENDING on a CONNECT stream leaves the close capsule readable
// ---------------------------------------------------------------------------------------------

#[test]
fn close_capsule_after_stop_sending_on_the_connect_stream_is_read() {
    let mut pair = one_session();
    let s = SessionId(BIDI_0);
    pair.server
        .handle_stop_sending(BIDI_0, Code::WT_SESSION_GONE.0);
    pair.server.handle_stream_data(
        BIDI_0,
        Bytes::from(data_frame(&close_capsule(7, "bye"))),
        true,
    );
    let out = collect(&mut pair.server);
    assert_eq!(
        out.session_closed(s),
        vec![(7, "bye".to_string(), CloseCause::Remote)]
    );
    assert_eq!(out.resets(BIDI_0).len(), 1, "our send half is reset once");
    let live = pair.server.live_entries();
    assert_eq!(
        (live.sessions, live.send_streams, live.recv_streams),
        (0, 0, 0)
    );
}

#[test]
fn server_closes_on_datagrams_beyond_the_peers_stream_limit() {
    let mut pair = one_session();
    let mut params = wt_proto::TransportParams::new(Some(1200), false);
    params.peer_bidi_streams = Some(100);
    pair.server.handle_transport_params(params);
    // Stream 0 was seen: indices below 1 + 100 may still be opened; 101 may not.
    pair.server.handle_datagram(datagram(4 * 100, b"may come"));
    assert_open(&collect(&mut pair.server), "within the limit");
    assert_eq!(pair.server.live_entries().buffered_datagrams, 1);
    pair.server
        .handle_datagram(datagram(4 * 101, b"cannot exist"));
    assert_conn_error(
        &collect(&mut pair.server),
        Code::H3_ID_ERROR,
        "beyond the limit",
    );
}

// ---------------------------------------------------------------------------------------------
// Found by the stateful fuzz targets (fuzz/fuzz_targets/pair.rs, peer_input.rs)
// ---------------------------------------------------------------------------------------------

fn request_to(path: &str) -> ConnectRequest {
    ConnectRequest::new(ProtocolToken::WebTransport, "example.com", path)
}

/// Runs `client` and `server` against each other until nothing moves.
fn exchange(client: &mut Connection, server: &mut Connection) {
    loop {
        let c: Vec<Action> = std::iter::from_fn(|| client.poll_action()).collect();
        let s: Vec<Action> = std::iter::from_fn(|| server.poll_action()).collect();
        if c.is_empty() && s.is_empty() {
            return;
        }
        deliver(server, &c);
        deliver(client, &s);
    }
}

fn engines() -> (Connection, Connection) {
    let now = std::time::Instant::now();
    let (c, s) = configs(Config::default());
    (
        Connection::new(Side::Client, c, now),
        Connection::new(Side::Server, s, now),
    )
}

#[test]
fn an_oversized_response_head_releases_the_connect_stream() {
    let (client, server) = configs(Config::default());
    let mut pair = settled_with_configs(client.with(|c| c.max_field_section_size = 0), server);
    pair.client.connect(request_to("/big")).expect("connect");
    pair.run();
    let session = pair
        .server_events()
        .into_iter()
        .find_map(|e| match e {
            Event::SessionRequest { session, .. } => Some(session),
            _ => None,
        })
        .expect("request");
    pair.server
        .accept(session, ConnectResponse::new(http::StatusCode::OK))
        .expect("accept");
    pair.run();
    assert_eq!(pair.client.session_count(), 0);
    assert_eq!(pair.client.live_entries().send_streams, 0);
}

#[test]
fn cancelling_a_held_connect_does_not_write_it_after_the_reset() {
    let (mut client, mut server) = engines();
    // Both before the SETTINGS; draft-15 allows one session at a time, so the second waits.
    client.connect(request_to("/first")).expect("first");
    let second = client.connect(request_to("/second")).expect("second");
    exchange(&mut client, &mut server);
    client.close_session(second, 0, "").expect("close");
    let out = collect(&mut client);
    assert_eq!(
        out.resets(second.stream()),
        vec![Code::H3_REQUEST_CANCELLED]
    );
    assert!(
        writes(&out, second.stream()).is_empty(),
        "{:?}",
        out.actions
    );
    assert_eq!(
        client.live_entries().send_streams,
        1,
        "only the first CONNECT stream"
    );
}

#[test]
fn a_closed_connection_forgets_out_of_order_peer_streams() {
    let (_, mut server) = engines();
    // The client's second uni stream (6) arrives before its first (2).
    server.handle_stream_data(StreamId(6), Bytes::from_static(&[0x01]), false);
    server.handle_connection_closed(Code::H3_NO_ERROR, "gone");
    collect(&mut server);
    assert_eq!(server.live_entries(), wt_proto::LiveEntries::default());
}

#[test]
fn a_datagram_held_for_a_refused_connect_is_released() {
    let (mut client, mut server) = engines();
    exchange(&mut client, &mut server);
    let session = client.connect(request_to("/early")).expect("connect");
    client
        .send_datagram(session, Bytes::from_static(b"early"))
        .expect("datagram");
    // The datagram overtakes the CONNECT; then GOAWAY refuses the request at its HEADERS.
    let (datagrams, rest): (Vec<Action>, Vec<Action>) = std::iter::from_fn(|| client.poll_action())
        .partition(|a| matches!(a, Action::SendDatagram { .. }));
    deliver(&mut server, &datagrams);
    assert_eq!(server.live_entries().buffered_datagrams, 1);
    server.goaway();
    deliver(&mut server, &rest);
    exchange(&mut client, &mut server);
    assert_eq!(server.session_count(), 0);
    assert_eq!(server.live_entries().buffered_datagrams, 0);
}

#[test]
fn a_datagram_limit_smaller_than_the_quarter_stream_id_admits_no_datagram() {
    let mut pair = one_session();
    let s = SessionId(BIDI_0);
    pair.client
        .handle_transport_params(wt_proto::TransportParams::new(Some(0), false));
    assert_eq!(
        pair.client.send_datagram(s, Bytes::new()),
        Err(wt_proto::SessionError::DatagramTooLarge { size: 0, max: 0 })
    );
    let sent = collect(&mut pair.client)
        .actions
        .iter()
        .any(|a| matches!(a, Action::SendDatagram { .. }));
    assert!(!sent);
}
