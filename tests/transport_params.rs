//! What the QUIC transport negotiated reaches the engine: the DATAGRAM extension and its size
//! limit (RFC 9297 §2.1.1, RFC 9221 §3) and RESET_STREAM_AT.

mod common;

use common::*;
use wt_proto::{SessionError, TransportParams};

#[test]
fn h3_datagram_without_the_quic_extension_is_settings_error_in_either_order() {
    // Reported before the peer's SETTINGS arrive.
    let mut pair = fresh();
    pair.server
        .handle_transport_params(TransportParams::new(None, false));
    pair.server.handle_stream_data(
        CLIENT_CONTROL,
        Bytes::from(control_stream(&client_settings())),
        false,
    );
    assert_conn_error(
        &collect(&mut pair.server),
        Code::H3_SETTINGS_ERROR,
        "params first",
    );

    // Reported after them.
    let mut pair = settled();
    pair.client
        .handle_transport_params(TransportParams::new(None, false));
    assert_conn_error(
        &collect(&mut pair.client),
        Code::H3_SETTINGS_ERROR,
        "params after SETTINGS",
    );
}

#[test]
fn without_h3_datagram_a_transport_without_datagrams_is_fine() {
    let (client, _) = configs(Config::default().with(|c| c.datagrams = false));
    let (_, server) = configs(Config::default());
    let mut pair = Pair::with_configs(client, server);
    pair.server
        .handle_transport_params(TransportParams::new(None, false));
    pair.run();
    assert!(!pair.server.is_closed() && !pair.client.is_closed());
    assert!(!pair.server.datagrams_enabled());
}

#[test]
fn max_datagram_payload_is_the_transport_limit_minus_the_quarter_stream_id() {
    let mut pair = one_session();
    let s = SessionId(BIDI_0);
    // Unknown until the transport reports it.
    assert_eq!(pair.client.max_datagram_payload(s), None);
    pair.client
        .handle_transport_params(TransportParams::new(Some(1200), false));
    assert_eq!(pair.client.max_datagram_payload(s), Some(1199));
    // Quarter stream id 64 takes two bytes.
    assert_eq!(
        pair.client.max_datagram_payload(SessionId(StreamId(256))),
        Some(1198)
    );
    assert_eq!(
        pair.client
            .send_datagram(s, Bytes::from(vec![0u8; 1200]))
            .unwrap_err(),
        SessionError::DatagramTooLarge {
            size: 1200,
            max: 1199
        }
    );
    pair.client
        .send_datagram(s, Bytes::from(vec![0u8; 1199]))
        .expect("a datagram of the maximum size");
    pair.run();
    let got = pair.server_events().into_iter().find_map(|e| match e {
        Event::Datagram { data, .. } => Some(data.len()),
        _ => None,
    });
    assert_eq!(got, Some(1199));
}

#[test]
fn reset_stream_at_is_remembered() {
    let mut pair = settled();
    assert!(!pair.client.transport_params().reset_stream_at);
    pair.client
        .handle_transport_params(TransportParams::new(Some(1200), true));
    assert!(pair.client.transport_params().reset_stream_at);
    assert!(!pair.client.is_closed());
}
