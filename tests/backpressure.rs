//! One backpressure signal: a transport reads a stream no further than `recv_budget`, and the
//! engine says `ResumeReading` once when a stream whose budget reached 0 has room again.

mod common;

use common::*;

/// The `ResumeReading` actions in `out`.
fn resumes(out: &Outcome) -> Vec<StreamId> {
    out.actions
        .iter()
        .filter_map(|a| match a {
            Action::ResumeReading { stream } => Some(*stream),
            _ => None,
        })
        .collect()
}

fn wt_uni(session: u64, payload: &[u8]) -> Bytes {
    let mut bytes = UniStreamHeader::WebTransport(session).to_bytes().to_vec();
    bytes.extend_from_slice(payload);
    Bytes::from(bytes)
}

#[test]
fn a_read_resumes_a_full_stream_once() {
    let (client, _) = configs(Config::default());
    let (_, server) = configs(Config::default().with(|c| c.stream_recv_buffer = 1000));
    let mut pair = settled_with_configs(client, server);
    establish(&mut pair, "/full");
    pair.server
        .handle_stream_data(CLIENT_UNI_A, wt_uni(0, &[7; 1000]), false);
    assert_eq!(pair.server.recv_budget(CLIENT_UNI_A), 0);
    assert!(resumes(&collect(&mut pair.server)).is_empty());
    let chunk = pair
        .server
        .read(CLIENT_UNI_A, 400)
        .expect("read")
        .expect("data");
    assert_eq!(chunk.len(), 400);
    assert_eq!(pair.server.recv_budget(CLIENT_UNI_A), 400);
    assert_eq!(resumes(&collect(&mut pair.server)), vec![CLIENT_UNI_A]);
    // Once per time the budget ran out.
    pair.server.read(CLIENT_UNI_A, 100).expect("read");
    assert!(resumes(&collect(&mut pair.server)).is_empty());
}

#[test]
fn accepting_the_session_resumes_its_full_held_stream() {
    let (client, _) = configs(Config::default());
    let (_, server) = configs(Config::default().with(|c| c.max_buffered_stream_bytes = 100));
    let mut pair = settled_with_configs(client, server);
    pair.server
        .handle_stream_data(BIDI_0, Bytes::from(default_connect()), false);
    collect(&mut pair.server);
    pair.server
        .handle_stream_data(CLIENT_UNI_A, wt_uni(0, &[1; 100]), false);
    assert_eq!(pair.server.recv_budget(CLIENT_UNI_A), 0);
    pair.server
        .accept(
            SessionId(BIDI_0),
            ConnectResponse::new(http::StatusCode::OK),
        )
        .expect("accept");
    assert!(pair.server.recv_budget(CLIENT_UNI_A) > 0);
    assert_eq!(resumes(&collect(&mut pair.server)), vec![CLIENT_UNI_A]);
}

#[test]
fn the_clients_settings_resume_a_full_held_request() {
    // Before the client's SETTINGS the server holds request bytes; at the limit the transport
    // stops reading, and nothing but the engine can tell it to go on.
    let mut pair = fresh();
    let limit = Config::default().max_held_request_bytes;
    let connect = default_connect();
    let mut bytes = connect.clone();
    bytes.resize(limit, 0);
    pair.server
        .handle_stream_data(BIDI_0, Bytes::from(bytes[..limit].to_vec()), false);
    assert_eq!(pair.server.recv_budget(BIDI_0), 0);
    assert!(resumes(&collect(&mut pair.server)).is_empty());
    pair.server.handle_stream_data(
        CLIENT_CONTROL,
        Bytes::from(control_stream(&client_settings())),
        false,
    );
    let out = collect(&mut pair.server);
    assert_eq!(resumes(&out), vec![BIDI_0]);
    assert!(pair.server.recv_budget(BIDI_0) > 0);
}

/// Feeds `stream` as a transport would: no more than its budget, in chunks of at most 1000.
fn feed_within_budget(conn: &mut Connection, stream: StreamId, mut data: Bytes) -> Bytes {
    loop {
        let budget = conn.recv_budget(stream);
        if budget == 0 || data.is_empty() {
            return data;
        }
        let n = budget.min(1000).min(data.len());
        conn.handle_stream_data(stream, data.split_to(n), false);
    }
}

#[test]
fn the_connection_budget_bounds_what_all_streams_hold() {
    let (client, _) = configs(Config::default());
    let (_, server) = configs(Config::default().with(|c| {
        c.stream_recv_buffer = 8_000;
        c.max_connection_buffer = 10_000;
    }));
    let mut pair = settled_with_configs(client, server);
    establish(&mut pair, "/budget");
    let [a, b, c] = [CLIENT_UNI_A, CLIENT_UNI_B, CLIENT_UNI_C];
    let left_a = feed_within_budget(&mut pair.server, a, wt_uni(0, &[1; 20_000]));
    let left_b = feed_within_budget(&mut pair.server, b, wt_uni(0, &[2; 20_000]));
    let left_c = feed_within_budget(&mut pair.server, c, wt_uni(0, &[3; 20_000]));
    assert!(
        pair.server.buffered_bytes() <= 10_000,
        "{}",
        pair.server.buffered_bytes()
    );
    assert!(!left_c.is_empty() && pair.server.recv_budget(c) == 0);
    assert!(resumes(&collect(&mut pair.server)).is_empty());
    // The application reads from `a`: `a` (at its own limit) and the waiting streams resume.
    pair.server.read(a, 3_000).expect("read").expect("data");
    let mut resumed = resumes(&collect(&mut pair.server));
    resumed.sort();
    assert!(resumed.contains(&a) && resumed.contains(&c), "{resumed:?}");
    // Nobody is ever given more than the budget.
    let _ = feed_within_budget(&mut pair.server, c, left_c);
    let _ = feed_within_budget(&mut pair.server, b, left_b);
    let _ = feed_within_budget(&mut pair.server, a, left_a);
    assert!(
        pair.server.buffered_bytes() <= 10_000,
        "{}",
        pair.server.buffered_bytes()
    );
    // Reading everything and closing returns the budget.
    for s in [a, b, c] {
        while let Ok(Some(_)) = pair.server.read(s, usize::MAX) {}
    }
    assert_eq!(pair.server.buffered_bytes(), 0);
}

#[test]
fn datagrams_over_the_connection_budget_are_dropped() {
    let (client, _) = configs(Config::default());
    let (_, server) = configs(Config::default().with(|c| c.max_connection_buffer = 2_500));
    let mut pair = settled_with_configs(client, server);
    let s = establish(&mut pair, "/dgram");
    for _ in 0..5 {
        pair.client
            .send_datagram(s, Bytes::from(vec![9u8; 1000]))
            .expect("send");
    }
    pair.run();
    let got = pair
        .server_events()
        .into_iter()
        .filter(|e| matches!(e, Event::Datagram { .. }))
        .count();
    // Two fit; the rest find the budget spent by the two not yet taken, and are dropped.
    assert_eq!(got, 2);
    assert_eq!(pair.server.stats().datagrams_dropped, 3);
    assert_eq!(
        pair.server.buffered_bytes(),
        0,
        "polled events left the budget"
    );
}

#[test]
fn a_flood_of_unread_streams_stays_within_the_connection_budget() {
    // A hostile client opens uni streams of 256 KiB with FIN on a session whose application
    // never reads them. A transport that honours recv_budget reads no FIN of a stream it could
    // not take whole, so QUIC returns no stream credit for it and the flood stops there.
    let mut pair = settled();
    establish(&mut pair, "/flood");
    let budget = Config::default().max_connection_buffer;
    let mut finished = 0;
    for i in 0..200u64 {
        let stream = StreamId::new(Side::Client, wt_proto::Dir::Uni, 3 + i);
        let left = feed_within_budget(&mut pair.server, stream, wt_uni(0, &[5; 256 * 1024]));
        if left.is_empty() && pair.server.recv_budget(stream) > 0 {
            pair.server.handle_stream_data(stream, Bytes::new(), true);
            finished += 1;
        }
        assert!(pair.server.buffered_bytes() <= budget);
    }
    collect(&mut pair.server);
    assert!(pair.server.buffered_bytes() <= budget);
    assert!(
        finished <= budget / (256 * 1024),
        "{finished} streams were read to their FIN"
    );
}

#[test]
fn new_streams_are_not_limited_by_the_held_stream_limit() {
    // No room for WebTransport streams before their session: the control stream is still read
    // (a budget of 0 for every new stream left the SETTINGS unread; found by fuzzing).
    let (client, _) = configs(Config::default());
    let (_, server) = configs(Config::default().with(|c| c.max_buffered_stream_bytes = 0));
    let mut pair = Pair::with_configs(client, server);
    assert!(pair.server.recv_budget(CLIENT_CONTROL) > 0);
    pair.run();
    assert!(pair.server.dialect().is_some());
}
