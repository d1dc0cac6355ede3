//! Error handling: the error rules of RFC 9114 §8, RFC 9204 §6, RFC 9297 and
//! draft-ietf-webtrans-http3, and malformed frames, settings, field sections and capsules,
//! checked with hand-made hostile bytes fed straight into one engine.
//!
//! Each connection-level case is run twice, once with the input in one piece and once one byte
//! at a time, so the incremental decoders must reach the same verdict. Stream-level errors are
//! also checked for isolation: with two draft-02 sessions on one connection, the other session
//! keeps working after one session's CONNECT stream is reset.

mod common;

use common::*;
// =============================================================================================
// RFC 9114 §6.2.1, §7.2, §8.1: control stream and frame rules
// =============================================================================================

#[test]
fn first_control_frame_not_settings_is_missing_settings() {
    let firsts: Vec<(&str, Vec<u8>)> = vec![
        ("GOAWAY", frame(Frame::Goaway(0))),
        ("MAX_PUSH_ID", frame(Frame::MaxPushId(0))),
        ("grease frame", raw_frame(0x21, 2, &[1, 2])),
        ("unknown frame", raw_frame(0x1234, 0, &[])),
    ];
    for (what, first) in &firsts {
        let mut data = UniStreamHeader::Control.to_bytes().to_vec();
        data.extend_from_slice(first);
        // Even a valid SETTINGS right after does not help.
        data.extend(settings_frame(&client_settings()));
        println!("client control stream starting with {what}");
        expect_conn_error(
            fresh,
            Side::Server,
            CLIENT_CONTROL,
            &data,
            false,
            Code::H3_MISSING_SETTINGS,
        );
    }
    // And at the client, from the server's control stream.
    let data = concat(&[&[0x00], &frame(Frame::Goaway(0))]);
    expect_conn_error(
        fresh,
        Side::Client,
        SERVER_CONTROL,
        &data,
        false,
        Code::H3_MISSING_SETTINGS,
    );
}

#[test]
fn second_settings_is_frame_unexpected() {
    let again = settings_frame(&client_settings());
    expect_conn_error(
        settled,
        Side::Server,
        CLIENT_CONTROL,
        &again,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
    // An empty SETTINGS is still a second one.
    expect_conn_error(
        settled,
        Side::Client,
        SERVER_CONTROL,
        &settings_frame(&Settings::new()),
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
    // Both at once on a fresh control stream.
    let twice = concat(&[
        &control_stream(&client_settings()),
        &settings_frame(&client_settings()),
    ]);
    expect_conn_error(
        fresh,
        Side::Server,
        CLIENT_CONTROL,
        &twice,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
}

#[test]
fn settings_on_request_stream_is_frame_unexpected() {
    let settings = settings_frame(&client_settings());
    // First frame of a request stream.
    expect_conn_error(
        settled,
        Side::Server,
        BIDI_0,
        &settings,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
    // After a CONNECT the server is considering.
    let data = concat(&[&default_connect(), &settings]);
    expect_conn_error(
        settled,
        Side::Server,
        BIDI_0,
        &data,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
    // On an established CONNECT stream at the client.
    expect_conn_error(
        one_session,
        Side::Client,
        BIDI_0,
        &settings_frame(&server_settings()),
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
}

#[test]
fn second_control_stream_is_stream_creation_error() {
    expect_conn_error(
        settled,
        Side::Server,
        CLIENT_UNI_A,
        &control_stream(&client_settings()),
        false,
        Code::H3_STREAM_CREATION_ERROR,
    );
    // The type byte alone is enough.
    expect_conn_error(
        settled,
        Side::Client,
        SERVER_UNI_A,
        &[0x00],
        false,
        Code::H3_STREAM_CREATION_ERROR,
    );
}

#[test]
fn second_qpack_encoder_stream_is_stream_creation_error() {
    expect_conn_error(
        settled,
        Side::Server,
        CLIENT_UNI_A,
        &UniStreamHeader::QpackEncoder.to_bytes(),
        false,
        Code::H3_STREAM_CREATION_ERROR,
    );
    expect_conn_error(
        settled,
        Side::Client,
        SERVER_UNI_A,
        &[0x02, 0x20],
        false,
        Code::H3_STREAM_CREATION_ERROR,
    );
}

#[test]
fn second_qpack_decoder_stream_is_stream_creation_error() {
    expect_conn_error(
        settled,
        Side::Server,
        CLIENT_UNI_A,
        &UniStreamHeader::QpackDecoder.to_bytes(),
        false,
        Code::H3_STREAM_CREATION_ERROR,
    );
    expect_conn_error(
        settled,
        Side::Client,
        SERVER_UNI_A,
        &[0x03],
        false,
        Code::H3_STREAM_CREATION_ERROR,
    );
}

#[test]
fn critical_stream_fin_is_closed_critical_stream() {
    let cases: [(Side, StreamId, &[u8]); 6] = [
        (Side::Server, CLIENT_CONTROL, &[]),
        (Side::Server, CLIENT_ENCODER, &[]),
        (Side::Server, CLIENT_DECODER, &[]),
        (Side::Client, SERVER_CONTROL, &[]),
        (Side::Client, SERVER_ENCODER, &[]),
        (Side::Client, SERVER_DECODER, &[]),
    ];
    for (side, stream, data) in cases {
        expect_conn_error(
            settled,
            side,
            stream,
            data,
            true,
            Code::H3_CLOSED_CRITICAL_STREAM,
        );
    }
    // FIN together with valid content.
    let with_data: [(StreamId, Vec<u8>); 3] = [
        (CLIENT_CONTROL, raw_frame(0x21, 1, &[7])),
        (CLIENT_ENCODER, vec![0x20]),
        (CLIENT_DECODER, vec![0x40]),
    ];
    for (stream, data) in with_data {
        expect_conn_error(
            settled,
            Side::Server,
            stream,
            &data,
            true,
            Code::H3_CLOSED_CRITICAL_STREAM,
        );
    }
    // A control stream finished right after its SETTINGS.
    expect_conn_error(
        fresh,
        Side::Server,
        CLIENT_CONTROL,
        &control_stream(&client_settings()),
        true,
        Code::H3_CLOSED_CRITICAL_STREAM,
    );
}

#[test]
fn critical_stream_reset_is_closed_critical_stream() {
    let cases = [
        (Side::Server, CLIENT_CONTROL),
        (Side::Server, CLIENT_ENCODER),
        (Side::Server, CLIENT_DECODER),
        (Side::Client, SERVER_CONTROL),
        (Side::Client, SERVER_ENCODER),
        (Side::Client, SERVER_DECODER),
    ];
    for (side, stream) in cases {
        let mut pair = settled();
        let conn = engine(&mut pair, side);
        conn.handle_stream_reset(stream, Code::H3_NO_ERROR.0);
        let out = collect(conn);
        assert_conn_error(
            &out,
            Code::H3_CLOSED_CRITICAL_STREAM,
            &format!("{side} reset of {stream}"),
        );
    }
}

#[test]
fn data_on_control_stream_is_frame_unexpected() {
    for (side, stream) in [
        (Side::Server, CLIENT_CONTROL),
        (Side::Client, SERVER_CONTROL),
    ] {
        expect_conn_error(
            settled,
            side,
            stream,
            &data_frame(b"hello"),
            false,
            Code::H3_FRAME_UNEXPECTED,
        );
        expect_conn_error(
            settled,
            side,
            stream,
            &data_frame(b""),
            false,
            Code::H3_FRAME_UNEXPECTED,
        );
    }
}

#[test]
fn headers_on_control_stream_is_frame_unexpected() {
    let headers = headers_frame(&[FieldLine::new(":status", "200")]);
    for (side, stream) in [
        (Side::Server, CLIENT_CONTROL),
        (Side::Client, SERVER_CONTROL),
    ] {
        expect_conn_error(
            settled,
            side,
            stream,
            &headers,
            false,
            Code::H3_FRAME_UNEXPECTED,
        );
    }
}

#[test]
fn push_promise_on_control_stream_is_frame_unexpected() {
    let mut block = BytesMut::new();
    qpack::encode_field_section(&[FieldLine::new(":method", "GET")], &mut block);
    let push = frame(Frame::PushPromise {
        push_id: 0,
        field_section: block.freeze(),
    });
    for (side, stream) in [
        (Side::Server, CLIENT_CONTROL),
        (Side::Client, SERVER_CONTROL),
    ] {
        expect_conn_error(
            settled,
            side,
            stream,
            &push,
            false,
            Code::H3_FRAME_UNEXPECTED,
        );
    }
}

#[test]
fn goaway_max_push_id_cancel_push_on_request_stream_are_frame_unexpected() {
    let control_frames = [
        ("GOAWAY", frame(Frame::Goaway(0))),
        ("MAX_PUSH_ID", frame(Frame::MaxPushId(0))),
        ("CANCEL_PUSH", frame(Frame::CancelPush(0))),
    ];
    for (what, f) in &control_frames {
        println!("{what}");
        // The first frame of a request stream.
        expect_conn_error(
            settled,
            Side::Server,
            BIDI_0,
            f,
            false,
            Code::H3_FRAME_UNEXPECTED,
        );
        // After the CONNECT head.
        let data = concat(&[&default_connect(), f]);
        expect_conn_error(
            settled,
            Side::Server,
            BIDI_0,
            &data,
            false,
            Code::H3_FRAME_UNEXPECTED,
        );
        // On an established CONNECT stream, both ways.
        expect_conn_error(
            one_session,
            Side::Server,
            BIDI_0,
            f,
            false,
            Code::H3_FRAME_UNEXPECTED,
        );
        expect_conn_error(
            one_session,
            Side::Client,
            BIDI_0,
            f,
            false,
            Code::H3_FRAME_UNEXPECTED,
        );
    }
}

#[test]
fn client_receiving_max_push_id_is_frame_unexpected() {
    for id in [0, 8] {
        expect_conn_error(
            settled,
            Side::Client,
            SERVER_CONTROL,
            &frame(Frame::MaxPushId(id)),
            false,
            Code::H3_FRAME_UNEXPECTED,
        );
    }
}

#[test]
fn server_receiving_push_promise_is_frame_unexpected() {
    let mut block = BytesMut::new();
    qpack::encode_field_section(&[FieldLine::new(":method", "GET")], &mut block);
    let push = frame(Frame::PushPromise {
        push_id: 0,
        field_section: block.freeze(),
    });
    expect_conn_error(
        settled,
        Side::Server,
        BIDI_0,
        &push,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
    let data = concat(&[&default_connect(), &push]);
    expect_conn_error(
        settled,
        Side::Server,
        BIDI_0,
        &data,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
    expect_conn_error(
        one_session,
        Side::Server,
        BIDI_0,
        &push,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
}

#[test]
fn client_initiated_push_stream_is_stream_creation_error() {
    for push_id in [0, 1 << 20] {
        expect_conn_error(
            settled,
            Side::Server,
            CLIENT_UNI_A,
            &UniStreamHeader::Push(push_id).to_bytes(),
            false,
            Code::H3_STREAM_CREATION_ERROR,
        );
    }
}

#[test]
fn client_receiving_push_stream_without_max_push_id_is_id_error() {
    for push_id in [0, 7] {
        let data = concat(&[&UniStreamHeader::Push(push_id).to_bytes(), b"payload"]);
        expect_conn_error(
            settled,
            Side::Client,
            SERVER_UNI_A,
            &data,
            false,
            Code::H3_ID_ERROR,
        );
    }
}

#[test]
fn server_goaway_id_not_client_bidi_is_id_error() {
    for id in [1, 2, 3, 6, 4 * 1000 + 1] {
        expect_conn_error(
            settled,
            Side::Client,
            SERVER_CONTROL,
            &frame(Frame::Goaway(id)),
            false,
            Code::H3_ID_ERROR,
        );
    }
    // Client bidi ids are fine.
    for (_, out) in expect_no_conn_error(
        settled,
        Side::Client,
        SERVER_CONTROL,
        &frame(Frame::Goaway(8)),
        false,
    ) {
        assert!(
            out.events
                .iter()
                .any(|e| matches!(e, Event::GoAway { id: 8 })),
            "{:?}",
            out.events
        );
    }
}

#[test]
fn goaway_id_increasing_is_id_error() {
    // Server to client: 8, 8, 4 are fine; 8 after 4 is not.
    let ok = concat(&[
        &frame(Frame::Goaway(8)),
        &frame(Frame::Goaway(8)),
        &frame(Frame::Goaway(4)),
    ]);
    expect_no_conn_error(settled, Side::Client, SERVER_CONTROL, &ok, false);
    let bad = concat(&[&ok, &frame(Frame::Goaway(8))]);
    expect_conn_error(
        settled,
        Side::Client,
        SERVER_CONTROL,
        &bad,
        false,
        Code::H3_ID_ERROR,
    );
    // Client to server (push ids): the same rule.
    let bad = concat(&[&frame(Frame::Goaway(5)), &frame(Frame::Goaway(6))]);
    expect_conn_error(
        settled,
        Side::Server,
        CLIENT_CONTROL,
        &bad,
        false,
        Code::H3_ID_ERROR,
    );
}

#[test]
fn max_push_id_decreasing_is_id_error() {
    let ok = concat(&[&frame(Frame::MaxPushId(10)), &frame(Frame::MaxPushId(10))]);
    expect_no_conn_error(settled, Side::Server, CLIENT_CONTROL, &ok, false);
    let bad = concat(&[&ok, &frame(Frame::MaxPushId(9))]);
    expect_conn_error(
        settled,
        Side::Server,
        CLIENT_CONTROL,
        &bad,
        false,
        Code::H3_ID_ERROR,
    );
}

#[test]
fn reserved_http2_frame_types_on_control_stream_are_frame_unexpected() {
    for t in [0x02, 0x06, 0x08, 0x09] {
        for payload in [&[][..], &[0u8; 8][..]] {
            let data = raw_frame(t, payload.len() as u64, payload);
            expect_conn_error(
                settled,
                Side::Server,
                CLIENT_CONTROL,
                &data,
                false,
                Code::H3_FRAME_UNEXPECTED,
            );
            expect_conn_error(
                settled,
                Side::Client,
                SERVER_CONTROL,
                &data,
                false,
                Code::H3_FRAME_UNEXPECTED,
            );
        }
    }
}

#[test]
fn reserved_http2_frame_types_on_request_stream_are_frame_unexpected() {
    for t in [0x02, 0x06, 0x08, 0x09] {
        let empty = frame(Frame::ReservedHttp2(t));
        let with_payload = raw_frame(t, 4, &[1, 2, 3, 4]);
        for data in [&empty, &with_payload] {
            expect_conn_error(
                settled,
                Side::Server,
                BIDI_0,
                data,
                false,
                Code::H3_FRAME_UNEXPECTED,
            );
            let after_head = concat(&[&default_connect(), data]);
            expect_conn_error(
                settled,
                Side::Server,
                BIDI_0,
                &after_head,
                false,
                Code::H3_FRAME_UNEXPECTED,
            );
            expect_conn_error(
                one_session,
                Side::Client,
                BIDI_0,
                data,
                false,
                Code::H3_FRAME_UNEXPECTED,
            );
        }
    }
}

#[test]
fn reserved_http2_setting_ids_are_settings_error() {
    for id in 0x02..=0x05 {
        let mut s = client_settings();
        s.set(id, 0);
        expect_conn_error(
            fresh,
            Side::Server,
            CLIENT_CONTROL,
            &control_stream(&s),
            false,
            Code::H3_SETTINGS_ERROR,
        );
        let mut s = server_settings();
        s.set(id, 1);
        expect_conn_error(
            fresh,
            Side::Client,
            SERVER_CONTROL,
            &control_stream(&s),
            false,
            Code::H3_SETTINGS_ERROR,
        );
    }
}

#[test]
fn frame_payload_longer_or_shorter_than_its_fields_is_frame_error() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "GOAWAY with an extra byte",
            raw_frame(0x07, 2, &[0x04, 0x00]),
        ),
        ("GOAWAY cut inside its varint", raw_frame(0x07, 1, &[0x40])),
        ("GOAWAY without payload", raw_frame(0x07, 0, &[])),
        (
            "GOAWAY longer than any varint",
            raw_frame(0x07, 9, &[0x00; 9]),
        ),
        (
            "MAX_PUSH_ID with an extra byte",
            raw_frame(0x0d, 2, &[0x01, 0x00]),
        ),
        (
            "CANCEL_PUSH with an extra byte",
            raw_frame(0x03, 2, &[0x00, 0x00]),
        ),
        (
            "MAX_PUSH_ID cut inside its varint",
            raw_frame(0x0d, 3, &[0x80, 0x00, 0x00]),
        ),
    ];
    for (what, data) in &cases {
        println!("{what}");
        expect_conn_error(
            settled,
            Side::Server,
            CLIENT_CONTROL,
            data,
            false,
            Code::H3_FRAME_ERROR,
        );
    }
    // At the client too.
    expect_conn_error(
        settled,
        Side::Client,
        SERVER_CONTROL,
        &raw_frame(0x07, 2, &[0x00, 0x00]),
        false,
        Code::H3_FRAME_ERROR,
    );
}

#[test]
fn settings_payload_shorter_than_its_fields_is_frame_error() {
    // id 0x33 with its value missing; and a value cut inside a 2-byte varint.
    for payload in [vec![0x33], vec![0x33, 0x01, 0x06, 0x40]] {
        let mut data = UniStreamHeader::Control.to_bytes().to_vec();
        data.extend(raw_frame(
            frame::ty::SETTINGS,
            payload.len() as u64,
            &payload,
        ));
        expect_conn_error(
            fresh,
            Side::Server,
            CLIENT_CONTROL,
            &data,
            false,
            Code::H3_FRAME_ERROR,
        );
    }
}

#[test]
fn truncated_frame_at_clean_fin_on_request_stream_is_frame_error() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("inside the type varint", vec![0x40]),
        ("inside the length varint", vec![0x01, 0x40]),
        ("after the header", vec![0x01, 0x05]),
        (
            "inside a HEADERS payload",
            raw_frame(0x01, 10, &[0, 0, 0xd1]),
        ),
        ("inside an unknown frame", raw_frame(0x21, 10, &[1, 2])),
    ];
    for (what, data) in &cases {
        println!("{what}");
        expect_conn_error(
            settled,
            Side::Server,
            BIDI_0,
            data,
            true,
            Code::H3_FRAME_ERROR,
        );
    }
    // A DATA frame cut short on a CONNECT stream the server is considering, and on an
    // established one at either end.
    let cut = raw_frame(0x00, 5, &[0xaa]);
    let data = concat(&[&default_connect(), &cut]);
    expect_conn_error(
        settled,
        Side::Server,
        BIDI_0,
        &data,
        true,
        Code::H3_FRAME_ERROR,
    );
    expect_conn_error(
        one_session,
        Side::Server,
        BIDI_0,
        &cut,
        true,
        Code::H3_FRAME_ERROR,
    );
    expect_conn_error(
        one_session,
        Side::Client,
        BIDI_0,
        &cut,
        true,
        Code::H3_FRAME_ERROR,
    );
}

#[test]
fn data_before_headers_is_frame_unexpected() {
    for payload in [&b"body"[..], &b""[..]] {
        expect_conn_error(
            settled,
            Side::Server,
            BIDI_0,
            &data_frame(payload),
            false,
            Code::H3_FRAME_UNEXPECTED,
        );
    }
    // The client's CONNECT stream, before the response head.
    expect_conn_error(
        requested,
        Side::Client,
        BIDI_0,
        &data_frame(b"early"),
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
}

#[test]
fn headers_on_connect_stream_after_2xx_is_frame_unexpected() {
    let response = headers_frame(&[FieldLine::new(":status", "200")]);
    expect_conn_error(
        one_session,
        Side::Client,
        BIDI_0,
        &response,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
    // After capsules too.
    let data = concat(&[&data_frame(&Capsule::DrainSession.to_bytes()), &response]);
    expect_conn_error(
        one_session,
        Side::Client,
        BIDI_0,
        &data,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
    // Trailers from the client on an established CONNECT stream.
    let trailers = headers_frame(&[FieldLine::new("x-trailer", "1")]);
    expect_conn_error(
        one_session,
        Side::Server,
        BIDI_0,
        &trailers,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
}

#[test]
fn headers_after_trailers_is_frame_unexpected() {
    let setup = || {
        settled_with_configs(
            Config::default().with(|c| c.seed = 1),
            Config::default().with(|c| {
                c.seed = 2;
                c.handle_requests = true;
            }),
        )
    };
    let head = headers_frame(&[
        FieldLine::new(":method", "POST"),
        FieldLine::new(":scheme", "https"),
        FieldLine::new(":authority", "example.com"),
        FieldLine::new(":path", "/upload"),
    ]);
    let trailers = headers_frame(&[FieldLine::new("x-checksum", "1")]);
    let data = concat(&[&head, &data_frame(b"body"), &trailers, &trailers]);
    expect_conn_error(
        setup,
        Side::Server,
        BIDI_0,
        &data,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
    let data = concat(&[&head, &trailers, &data_frame(b"late body")]);
    expect_conn_error(
        setup,
        Side::Server,
        BIDI_0,
        &data,
        false,
        Code::H3_FRAME_UNEXPECTED,
    );
}

/// A malformed request resets its stream with H3_MESSAGE_ERROR; the connection stays open.
fn check_malformed_request(fields: &[FieldLine], what: &str) {
    let data = headers_frame(fields);
    for (mut pair, out) in expect_no_conn_error(settled, Side::Server, BIDI_0, &data, false) {
        assert_eq!(
            out.resets(BIDI_0),
            [Code::H3_MESSAGE_ERROR],
            "{what}: {out:?}"
        );
        assert_eq!(
            out.stops(BIDI_0),
            [Code::H3_MESSAGE_ERROR],
            "{what}: {out:?}"
        );
        assert!(!out.has_session_request(), "{what}: {out:?}");
        assert_eq!(pair.server.session_count(), 0);
        // More bytes on the refused stream change nothing.
        pair.server
            .handle_stream_data(BIDI_0, Bytes::from(data_frame(b"more")), true);
        let after = collect(&mut pair.server);
        assert_open(&after, what);
    }
}

#[test]
fn malformed_request_uppercase_header_name_is_message_error() {
    let (what, fields) = malformed_requests("webtransport-h3").swap_remove(0);
    check_malformed_request(&fields, what);
}

#[test]
fn malformed_request_missing_path_on_extended_connect_is_message_error() {
    let (what, fields) = malformed_requests("webtransport-h3").swap_remove(1);
    check_malformed_request(&fields, what);
}

#[test]
fn malformed_request_content_length_on_webtransport_connect_is_message_error() {
    let (what, fields) = malformed_requests("webtransport-h3").swap_remove(2);
    check_malformed_request(&fields, what);
}

#[test]
fn unknown_frame_types_are_ignored() {
    let unknown = concat(&[
        &raw_frame(0x21, 3, &[1, 2, 3]),
        &raw_frame(0x0c, 0, &[]),
        &raw_frame(0xf0700, 2, &[0, 0]),
        &raw_frame(0x3fff_ffff, 5, &[9; 5]),
        &raw_frame(0x1f * 1000 + 0x21, 0, &[]),
    ]);
    expect_no_conn_error(settled, Side::Server, CLIENT_CONTROL, &unknown, false);
    expect_no_conn_error(settled, Side::Client, SERVER_CONTROL, &unknown, false);
    // On a request stream: before and after the head, and the CONNECT still goes through.
    let data = concat(&[&unknown, &default_connect(), &unknown]);
    for (_, out) in expect_no_conn_error(settled, Side::Server, BIDI_0, &data, false) {
        assert!(out.has_session_request(), "{out:?}");
        assert!(out.resets(BIDI_0).is_empty(), "{out:?}");
    }
    // Between capsules on an established CONNECT stream.
    let data = concat(&[
        &unknown,
        &data_frame(&Capsule::DrainSession.to_bytes()),
        &unknown,
    ]);
    for side in [Side::Server, Side::Client] {
        for (_, out) in expect_no_conn_error(one_session, side, BIDI_0, &data, false) {
            assert!(out.resets(BIDI_0).is_empty(), "{out:?}");
            assert!(
                out.events
                    .iter()
                    .any(|e| matches!(e, Event::SessionDraining { .. })),
                "{out:?}"
            );
        }
    }
}

#[test]
fn unknown_uni_stream_type_is_stopped_not_a_connection_error() {
    let types: [u64; 4] = [0x21, 0x1f * 77 + 0x21, 0x1234, 0x3fff_ffff_ffff];
    for t in types {
        let data = concat(&[&UniStreamHeader::Unknown(t).to_bytes(), b"ignored payload"]);
        for (side, stream) in [(Side::Server, CLIENT_UNI_A), (Side::Client, SERVER_UNI_A)] {
            for (mut pair, out) in expect_no_conn_error(settled, side, stream, &data, false) {
                assert_eq!(
                    out.stops(stream),
                    [Code::H3_STREAM_CREATION_ERROR],
                    "{out:?}"
                );
                assert_eq!(out.actions.len(), 1, "{out:?}");
                // The rest of the stream is dropped silently.
                let conn = engine(&mut pair, side);
                conn.handle_stream_data(stream, Bytes::from_static(b"more"), true);
                let after = collect(conn);
                assert_open(&after, "after the stop");
                assert!(after.actions.is_empty(), "{after:?}");
                assert_eq!(conn.live_entries().recv_streams, 0);
            }
        }
    }
}

#[test]
fn grease_frames_and_settings_are_ignored() {
    let mut s = client_settings();
    s.set(0x21, 0)
        .set(0x1f * 12345 + 0x21, 77)
        .set(0x1f * 0xffff_ffff + 0x21, u64::from(u32::MAX));
    let data = concat(&[
        &control_stream(&s),
        &raw_frame(0x1f * 3 + 0x21, 5, &[0xff; 5]),
        &raw_frame(0x1f * 0x1_0000_0000 + 0x21, 0, &[]),
    ]);
    for (pair, out) in expect_no_conn_error(fresh, Side::Server, CLIENT_CONTROL, &data, false) {
        assert!(
            out.events.iter().any(|e| matches!(
                e,
                Event::SettingsReceived {
                    dialect: Some(Dialect::Draft15),
                    datagrams: true
                }
            )),
            "{out:?}"
        );
        let peer = pair.server.peer_settings().expect("peer settings");
        assert_eq!(peer.get(0x1f * 12345 + 0x21), Some(77));
    }
    // Both engines grease by default; a full run shows nothing wrong.
    let mut pair = settled();
    assert!(pair.wire_errors().is_empty(), "{:?}", pair.wire_errors());
    establish(&mut pair, "/grease");
    assert!(!pair.client.is_closed() && !pair.server.is_closed());
}

// =============================================================================================
// Malformed input classes
// =============================================================================================

#[test]
fn settings_with_duplicate_id_is_settings_error() {
    let cases = [
        vec![(0x33, 1), (0x33, 1)],
        vec![(0x01, 0), (0x07, 0), (0x01, 0)],
        vec![(0x21, 1), (0x21, 2)],
    ];
    for pairs in &cases {
        let data = concat(&[&[0x00], &raw_settings(pairs)]);
        expect_conn_error(
            fresh,
            Side::Server,
            CLIENT_CONTROL,
            &data,
            false,
            Code::H3_SETTINGS_ERROR,
        );
        expect_conn_error(
            fresh,
            Side::Client,
            SERVER_CONTROL,
            &data,
            false,
            Code::H3_SETTINGS_ERROR,
        );
    }
}

#[test]
fn settings_with_boolean_above_one_is_settings_error() {
    let booleans = [
        settings::id::ENABLE_CONNECT_PROTOCOL,
        settings::id::H3_DATAGRAM,
        settings::id::H3_DATAGRAM_DRAFT04,
        settings::id::ENABLE_WEBTRANSPORT,
        settings::id::WT_ENABLED,
    ];
    for id in booleans {
        for value in [2, 1 << 40] {
            let mut s = client_settings();
            s.set(id, value);
            expect_conn_error(
                fresh,
                Side::Server,
                CLIENT_CONTROL,
                &control_stream(&s),
                false,
                Code::H3_SETTINGS_ERROR,
            );
            let mut s = server_settings();
            s.set(id, value);
            expect_conn_error(
                fresh,
                Side::Client,
                SERVER_CONTROL,
                &control_stream(&s),
                false,
                Code::H3_SETTINGS_ERROR,
            );
        }
    }
}

#[test]
fn bad_qpack_field_section_is_decompression_failed() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("nonzero Required Insert Count", vec![0x01, 0x00, 0xd1]),
        ("negative Base", vec![0x00, 0x81, 0xd1]),
        ("indexed dynamic reference", vec![0x00, 0x00, 0x80]),
        (
            "literal with dynamic name",
            vec![0x00, 0x00, 0x40, 0x01, b'a'],
        ),
        ("post-base index", vec![0x00, 0x00, 0x10]),
        (
            "post-base name reference",
            vec![0x00, 0x00, 0x00, 0x01, b'a'],
        ),
        ("static index 99", vec![0x00, 0x00, 0xff, 0x24]),
        (
            "static name index 99",
            vec![0x00, 0x00, 0x5f, 0x54, 0x01, b'a'],
        ),
        (
            "Huffman padding of zeros",
            vec![0x00, 0x00, 0x51, 0x81, 0x00],
        ),
        (
            "Huffman padding of 8 ones",
            vec![0x00, 0x00, 0x51, 0x82, 0x1f, 0xff],
        ),
        (
            "Huffman EOS inside the string",
            vec![0x00, 0x00, 0x51, 0x84, 0xff, 0xff, 0xff, 0xff],
        ),
        (
            "string longer than the section",
            vec![0x00, 0x00, 0x51, 0x05, b'/'],
        ),
        ("empty section", vec![]),
    ];
    for (what, block) in &cases {
        println!("{what}");
        expect_conn_error(
            settled,
            Side::Server,
            BIDI_0,
            &raw_headers(block),
            false,
            Code::QPACK_DECOMPRESSION_FAILED,
        );
    }
    // The client decoding a response head.
    expect_conn_error(
        requested,
        Side::Client,
        BIDI_0,
        &raw_headers(&[0x00, 0x00, 0x80]),
        false,
        Code::QPACK_DECOMPRESSION_FAILED,
    );
}

#[test]
fn qpack_encoder_stream_insert_is_encoder_stream_error() {
    let instructions = [
        EncoderInstruction::InsertWithNameRef {
            is_static: true,
            index: 17,
            value: Bytes::from_static(b"x"),
        },
        EncoderInstruction::InsertWithNameRef {
            is_static: true,
            index: 17,
            value: Bytes::new(),
        },
        EncoderInstruction::InsertWithNameRef {
            is_static: false,
            index: 0,
            value: Bytes::new(),
        },
        EncoderInstruction::InsertWithLiteralName {
            name: Bytes::from_static(b"a"),
            value: Bytes::from_static(b"b"),
        },
        EncoderInstruction::InsertWithLiteralName {
            name: Bytes::new(),
            value: Bytes::new(),
        },
        EncoderInstruction::Duplicate(0),
        EncoderInstruction::SetCapacity(1),
        EncoderInstruction::SetCapacity(4096),
    ];
    for i in &instructions {
        let mut data = Vec::new();
        i.encode(&mut data);
        println!("{i:?}");
        expect_conn_error(
            settled,
            Side::Server,
            CLIENT_ENCODER,
            &data,
            false,
            Code::QPACK_ENCODER_STREAM_ERROR,
        );
        // After a valid Set Dynamic Table Capacity 0.
        let data = concat(&[&[0x20], &data]);
        expect_conn_error(
            settled,
            Side::Client,
            SERVER_ENCODER,
            &data,
            false,
            Code::QPACK_ENCODER_STREAM_ERROR,
        );
    }
}

#[test]
fn chromium_set_dynamic_table_capacity_zero_is_accepted() {
    let mut capacity0 = Vec::new();
    EncoderInstruction::SetCapacity(0).encode(&mut capacity0);
    assert_eq!(capacity0, [0x20]);
    // The peer's encoder stream exactly as Chromium opens it: `02 20`.
    let setup = || {
        let mut pair = fresh();
        pair.server.handle_stream_data(
            CLIENT_CONTROL,
            Bytes::from(control_stream(&client_settings())),
            false,
        );
        collect(&mut pair.server);
        pair
    };
    for (mut pair, out) in
        expect_no_conn_error(setup, Side::Server, CLIENT_ENCODER, &[0x02, 0x20], false)
    {
        assert!(out.actions.is_empty(), "{out:?}");
        // Repeating it is fine too.
        pair.server
            .handle_stream_data(CLIENT_ENCODER, Bytes::from_static(&[0x20, 0x20]), false);
        assert_open(&collect(&mut pair.server), "repeated 0x20");
    }
}

#[test]
fn qpack_decoder_stream_section_ack_is_decoder_stream_error() {
    let bad = [
        DecoderInstruction::SectionAck(0),
        DecoderInstruction::SectionAck(4),
        DecoderInstruction::InsertCountIncrement(0),
        DecoderInstruction::InsertCountIncrement(1),
    ];
    for i in bad {
        let mut data = Vec::new();
        i.encode(&mut data);
        println!("{i:?}");
        expect_conn_error(
            settled,
            Side::Server,
            CLIENT_DECODER,
            &data,
            false,
            Code::QPACK_DECODER_STREAM_ERROR,
        );
        // After an acceptable Stream Cancellation.
        let mut cancel = Vec::new();
        DecoderInstruction::StreamCancel(0).encode(&mut cancel);
        let data = concat(&[&cancel, &data]);
        expect_conn_error(
            settled,
            Side::Client,
            SERVER_DECODER,
            &data,
            false,
            Code::QPACK_DECODER_STREAM_ERROR,
        );
    }
    // Stream Cancellation alone is fine.
    let mut cancel = Vec::new();
    DecoderInstruction::StreamCancel(300).encode(&mut cancel);
    expect_no_conn_error(settled, Side::Server, CLIENT_DECODER, &cancel, false);
}

#[test]
fn invalid_session_id_on_wt_uni_stream_is_id_error() {
    for session in [1, 2, 3, 6, 4 * 5 + 1] {
        let data = concat(&[&UniStreamHeader::WebTransport(session).to_bytes(), b"x"]);
        expect_conn_error(
            settled,
            Side::Server,
            CLIENT_UNI_A,
            &data,
            false,
            Code::H3_ID_ERROR,
        );
        expect_conn_error(
            one_session,
            Side::Client,
            SERVER_UNI_A,
            &data,
            false,
            Code::H3_ID_ERROR,
        );
    }
}

#[test]
fn invalid_session_id_on_wt_bidi_stream_is_id_error() {
    for session in [1, 2, 3, 7] {
        let data = concat(&[&stream_header::bidi_header(session), b"x"]);
        expect_conn_error(
            settled,
            Side::Server,
            BIDI_0,
            &data,
            false,
            Code::H3_ID_ERROR,
        );
        // At the client, on a server-initiated bidi stream.
        expect_conn_error(
            one_session,
            Side::Client,
            SERVER_BIDI_0,
            &data,
            false,
            Code::H3_ID_ERROR,
        );
    }
}

#[test]
fn datagram_with_truncated_quarter_stream_id_is_datagram_error() {
    let cases: [&[u8]; 5] = [
        &[0x40],
        &[],
        &[0x80, 0x00, 0x00],
        &[0xc0, 0, 0, 0, 0, 0, 0],
        // Not truncated, but a Quarter Stream ID above 2^60 - 1 (RFC 9297 §2.1).
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, b'x'],
    ];
    for side in [Side::Server, Side::Client] {
        for data in cases {
            let mut pair = one_session();
            let conn = engine(&mut pair, side);
            conn.handle_datagram(Bytes::copy_from_slice(data));
            let out = collect(conn);
            assert_conn_error(
                &out,
                Code::H3_DATAGRAM_ERROR,
                &format!("{side} datagram {}", hex(data)),
            );
            assert!(
                out.session_closed(SessionId(BIDI_0))
                    .iter()
                    .all(|c| c.2 == CloseCause::ConnectionClosed),
                "{out:?}"
            );
        }
    }
}

/// A DATA frame on an established CONNECT stream that must reset it with H3_MESSAGE_ERROR and
/// end the session as a protocol error, without a connection error.
fn expect_session_message_error(setup: impl Fn() -> Pair, side: Side, data: &[u8], fin: bool) {
    let session = SessionId(BIDI_0);
    for (pair, out) in expect_no_conn_error(setup, side, BIDI_0, data, fin) {
        assert!(
            out.resets(BIDI_0).contains(&Code::H3_MESSAGE_ERROR),
            "{side}: no reset: {out:?}"
        );
        assert!(
            out.resets(BIDI_0)
                .iter()
                .chain(&out.stops(BIDI_0))
                .all(|c| *c == Code::H3_MESSAGE_ERROR),
            "{out:?}"
        );
        let closed = out.session_closed(session);
        assert_eq!(closed.len(), 1, "{side}: {out:?}");
        assert_eq!(
            closed[0].2,
            CloseCause::ProtocolError(Code::H3_MESSAGE_ERROR),
            "{side}: {out:?}"
        );
        let conn = match side {
            Side::Client => &pair.client,
            Side::Server => &pair.server,
        };
        assert_eq!(conn.session_count(), 0);
        assert_eq!(conn.live_entries().recv_streams, 0, "{side}");
    }
}

#[test]
fn oversized_close_reason_is_message_error() {
    let reason = vec![b'a'; 1025];
    let capsule = raw_close_capsule(7, &reason);
    for side in [Side::Server, Side::Client] {
        expect_session_message_error(one_session, side, &data_frame(&capsule), false);
        // Split over two DATA frames.
        let (x, y) = capsule.split_at(3);
        let data = concat(&[&data_frame(x), &data_frame(y)]);
        expect_session_message_error(one_session, side, &data, false);
    }
    // 1024 bytes is the limit, and fine.
    let ok = raw_close_capsule(7, &[b'a'; 1024]);
    for (_, out) in expect_no_conn_error(one_session, Side::Server, BIDI_0, &data_frame(&ok), false)
    {
        let closed = out.session_closed(SessionId(BIDI_0));
        assert_eq!(closed.len(), 1, "{out:?}");
        assert_eq!((closed[0].0, closed[0].1.len()), (7, 1024));
        assert_eq!(closed[0].2, CloseCause::Remote);
        assert!(out.resets(BIDI_0).is_empty(), "{out:?}");
    }
}

#[test]
fn close_reason_not_utf8_is_message_error() {
    let reasons: [&[u8]; 3] = [&[0xff, 0xfe], b"bye\xc3", &[0xe2, 0x82, b'x']];
    for reason in reasons {
        let data = data_frame(&raw_close_capsule(0, reason));
        for side in [Side::Server, Side::Client] {
            expect_session_message_error(one_session, side, &data, false);
        }
    }
    // A close capsule too short for its code is malformed as well.
    let mut short = varint_bytes(capsule::ty::CLOSE_SESSION);
    short.extend([0x02, 0x00, 0x00]);
    expect_session_message_error(one_session, Side::Server, &data_frame(&short), false);
}

/// Data after the peer's close capsule: H3_MESSAGE_ERROR on the CONNECT stream, the session ends
/// once (as a remote close), no connection error.
fn check_data_after_close(out: &Outcome, expect_reset: bool, what: &str) {
    assert_open(out, what);
    assert!(
        out.stops(BIDI_0).contains(&Code::H3_MESSAGE_ERROR),
        "{what}: no STOP_SENDING: {out:?}"
    );
    if expect_reset {
        assert_eq!(
            out.resets(BIDI_0),
            [Code::H3_MESSAGE_ERROR],
            "{what}: {out:?}"
        );
    }
    assert!(
        out.resets(BIDI_0)
            .iter()
            .chain(&out.stops(BIDI_0))
            .all(|c| *c == Code::H3_MESSAGE_ERROR),
        "{what}: {out:?}"
    );
    let closed = out.session_closed(SessionId(BIDI_0));
    assert_eq!(closed.len(), 1, "{what}: {out:?}");
    assert_eq!((closed[0].0, closed[0].1.as_str()), (5, "bye"), "{what}");
}

#[test]
fn data_after_close_capsule_is_message_error() {
    let close = close_capsule(5, "bye");
    let more = Capsule::DrainSession.to_bytes();
    let same_frame = data_frame(&concat(&[&close, &more]));
    let later_frame = concat(&[&data_frame(&close), &data_frame(&more)]);
    for side in [Side::Server, Side::Client] {
        // In the same DATA frame, and in a later one, delivered whole or byte by byte.
        for (what, data) in [("same frame", &same_frame), ("later frame", &later_frame)] {
            for how in FEEDS {
                let mut pair = one_session();
                let conn = engine(&mut pair, side);
                feed(conn, BIDI_0, data, false, how);
                let out = collect(conn);
                check_data_after_close(&out, true, &format!("{side} {what} {how:?}"));
            }
        }
        // The later DATA frame arrives after our FIN went out.
        let mut pair = one_session();
        let conn = engine(&mut pair, side);
        conn.handle_stream_data(BIDI_0, Bytes::from(data_frame(&close)), false);
        let first = collect(conn);
        assert_open(&first, "close capsule");
        assert!(
            first.actions.iter().any(|a| matches!(
                a,
                Action::Write { stream, fin: true, .. } if *stream == BIDI_0
            )),
            "{side}: the close is answered with FIN: {first:?}"
        );
        conn.handle_stream_data(BIDI_0, Bytes::from(data_frame(&more)), false);
        let second = collect(conn);
        let mut both = first;
        both.actions.extend(second.actions);
        both.events.extend(second.events);
        both.closed = second.closed;
        check_data_after_close(&both, false, &format!("{side} after FIN"));
        // A FIN without more data after the close capsule is clean.
        let mut pair = one_session();
        let conn = engine(&mut pair, side);
        conn.handle_stream_data(BIDI_0, Bytes::from(data_frame(&close)), true);
        let out = collect(conn);
        assert_open(&out, "close then FIN");
        assert!(
            out.resets(BIDI_0).is_empty() && out.stops(BIDI_0).is_empty(),
            "{out:?}"
        );
    }
}

#[test]
fn capsule_truncated_by_fin_is_message_error() {
    let close = close_capsule(1, "truncated");
    let grease = {
        let mut g = varint_bytes(0x29 * 3 + 0x17);
        g.extend(varint_bytes(10));
        g.extend([0u8; 3]);
        g
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("inside the type", close[..1].to_vec()),
        ("inside the length", concat(&[&close[..2], &[0x40]])),
        ("inside the value", close[..close.len() - 2].to_vec()),
        ("inside a grease capsule", grease),
    ];
    for (what, partial) in &cases {
        println!("{what}");
        for side in [Side::Server, Side::Client] {
            expect_session_message_error(one_session, side, &data_frame(partial), true);
        }
    }
}

#[test]
fn wt_stream_reset_before_its_header_is_unassociated() {
    let mut pair = settled();
    // Reset before any byte.
    pair.server.handle_stream_reset(CLIENT_UNI_A, 0x10c);
    // Reset inside the stream type, and after the type but inside the session id.
    pair.server
        .handle_stream_data(CLIENT_UNI_B, Bytes::from_static(&[0x40]), false);
    pair.server.handle_stream_reset(CLIENT_UNI_B, 0x10c);
    pair.server
        .handle_stream_data(CLIENT_UNI_C, Bytes::from_static(&[0x40, 0x54, 0x40]), false);
    pair.server.handle_stream_reset(CLIENT_UNI_C, 0x10c);
    // A bidi stream reset before any byte.
    pair.server.handle_stream_reset(StreamId(4), 0x10c);
    let out = collect(&mut pair.server);
    assert_open(&out, "resets");
    assert!(out.actions.is_empty(), "{out:?}");
    assert!(out.events.is_empty(), "{out:?}");
    assert_eq!(pair.server.stats().streams_unassociated, 4);
    assert_eq!(pair.server.live_entries().recv_streams, 0);
    // Late data on them is ignored.
    for s in [CLIENT_UNI_A, CLIENT_UNI_B, CLIENT_UNI_C, StreamId(4)] {
        pair.server
            .handle_stream_data(s, Bytes::from_static(&[0x40, 0x54, 0x00, 1]), true);
    }
    let out = collect(&mut pair.server);
    assert_open(&out, "late data");
    assert!(out.actions.is_empty(), "{out:?}");
    assert_eq!(pair.server.live_entries().recv_streams, 0);
    // The client side tolerates the same.
    pair.client.handle_stream_reset(SERVER_UNI_A, 0x10c);
    let out = collect(&mut pair.client);
    assert_open(&out, "client reset");
    assert_eq!(pair.client.stats().streams_unassociated, 1);
}

#[test]
fn wt_bidi_stream_reset_inside_its_header_is_unassociated() {
    let mut pair = settled();
    pair.server
        .handle_stream_data(BIDI_0, Bytes::from_static(&[0x40]), false);
    pair.server.handle_stream_reset(BIDI_0, 0x10c);
    pair.server
        .handle_stream_data(StreamId(4), Bytes::from_static(&[0x40, 0x41]), false);
    pair.server.handle_stream_reset(StreamId(4), 0x10c);
    let out = collect(&mut pair.server);
    assert_open(&out, "bidi resets");
    assert_eq!(pair.server.stats().streams_unassociated, 2);
    assert_eq!(pair.server.live_entries().recv_streams, 0);
}

#[test]
fn stream_ending_before_its_type_is_tolerated() {
    let cases: [(StreamId, &[u8]); 3] = [
        (CLIENT_UNI_A, &[]),
        (CLIENT_UNI_B, &[0x40]),
        (CLIENT_UNI_C, &[0x40, 0x54]),
    ];
    let mut pair = settled();
    for (stream, data) in cases {
        for how in FEEDS {
            let mut p = settled();
            feed(&mut p.server, stream, data, true, how);
            let out = collect(&mut p.server);
            assert_open(&out, &format!("{stream} {how:?}"));
            assert!(out.actions.is_empty(), "{out:?}");
            assert_eq!(p.server.live_entries().recv_streams, 0);
        }
        feed(&mut pair.server, stream, data, true, Feed::Whole);
    }
    // At the client too.
    pair.client
        .handle_stream_data(SERVER_UNI_A, Bytes::new(), true);
    assert_open(&collect(&mut pair.client), "client");
    // The connection still carries a session.
    collect(&mut pair.server);
    let s = establish(&mut pair, "/after");
    pair.client
        .send_datagram(s, Bytes::from_static(b"hi"))
        .expect("datagram");
    pair.run();
    assert!(
        pair.server_events()
            .iter()
            .any(|e| matches!(e, Event::Datagram { session, .. } if *session == s))
    );
}

// =============================================================================================
// Isolation: a stream-level error leaves the other session working
// =============================================================================================

/// Injects `data` from the client into the server on `stream`, checks `verify` on what the
/// server did, hands the server's reaction to the client, and shows session b still works.
fn isolation(stream: StreamId, data: &[u8], verify: impl Fn(&Outcome, &Two)) {
    let mut two = two_sessions();
    two.pair
        .server
        .handle_stream_data(stream, Bytes::copy_from_slice(data), false);
    let out = collect(&mut two.pair.server);
    assert_open(&out, "server");
    verify(&out, &two);
    assert!(
        out.session_closed(two.b).is_empty(),
        "session b must survive: {out:?}"
    );
    deliver(&mut two.pair.client, &out.actions);
    two.pair.run();
    let (b, b_stream) = (two.b, two.b_stream);
    assert_session_works(&mut two.pair, b, b_stream);
}

#[test]
fn malformed_request_leaves_other_session_working() {
    for (what, fields) in malformed_requests("webtransport") {
        println!("{what}");
        // Streams 0 and 4 are the sessions, 8 the client's stream on b: use 12.
        let stream = StreamId(12);
        isolation(stream, &headers_frame(&fields), |out, two| {
            assert_eq!(out.resets(stream), [Code::H3_MESSAGE_ERROR], "{out:?}");
            assert_eq!(out.stops(stream), [Code::H3_MESSAGE_ERROR], "{out:?}");
            assert!(out.session_closed(two.a).is_empty(), "{out:?}");
        });
    }
}

#[test]
fn oversized_or_invalid_close_reason_leaves_other_session_working() {
    let reasons: [&[u8]; 2] = [&[b'z'; 1025], &[0xc3, 0x28]];
    for reason in reasons {
        let data = data_frame(&raw_close_capsule(9, reason));
        isolation(BIDI_0, &data, |out, two| {
            assert_eq!(out.resets(BIDI_0), [Code::H3_MESSAGE_ERROR], "{out:?}");
            let closed = out.session_closed(two.a);
            assert_eq!(closed.len(), 1, "{out:?}");
            assert_eq!(
                closed[0].2,
                CloseCause::ProtocolError(Code::H3_MESSAGE_ERROR)
            );
        });
    }
}

#[test]
fn data_after_close_leaves_other_session_working() {
    let close = close_capsule(5, "bye");
    let more = Capsule::DrainSession.to_bytes();
    let same_frame = data_frame(&concat(&[&close, &more]));
    let later_frame = concat(&[&data_frame(&close), &data_frame(&more)]);
    for data in [same_frame, later_frame] {
        isolation(BIDI_0, &data, |out, two| {
            assert_eq!(two.a, SessionId(BIDI_0));
            check_data_after_close(out, true, "isolation");
        });
    }
}

#[test]
fn stop_sending_on_our_control_stream_is_closed_critical_stream() {
    for (side, stream) in [
        (Side::Server, SERVER_CONTROL),
        (Side::Client, CLIENT_CONTROL),
    ] {
        let mut pair = settled();
        let conn = engine(&mut pair, side);
        conn.handle_stop_sending(stream, Code::H3_NO_ERROR.0);
        let out = collect(conn);
        assert_conn_error(
            &out,
            Code::H3_CLOSED_CRITICAL_STREAM,
            &format!("{side} stop of {stream}"),
        );
    }
}

#[test]
fn stop_sending_on_our_qpack_streams_is_closed_critical_stream() {
    let cases = [
        (Side::Server, SERVER_ENCODER),
        (Side::Server, SERVER_DECODER),
        (Side::Client, CLIENT_ENCODER),
        (Side::Client, CLIENT_DECODER),
    ];
    for (side, stream) in cases {
        let mut pair = settled();
        let conn = engine(&mut pair, side);
        conn.handle_stop_sending(stream, Code::H3_NO_ERROR.0);
        let out = collect(conn);
        assert_conn_error(
            &out,
            Code::H3_CLOSED_CRITICAL_STREAM,
            &format!("{side} stop of {stream}"),
        );
    }
}
