use wt_proto::pair::Pair;
use wt_proto::*;

#[test]
fn smoke() {
    let mut pair = Pair::new();
    pair.run();
    let s = pair
        .client
        .connect(ConnectRequest::new(
            ProtocolToken::WebTransport,
            "example.com",
            "/echo",
        ))
        .unwrap();
    pair.run();
    let ev = pair.server_events();
    let sid = ev
        .iter()
        .find_map(|e| match e {
            Event::SessionRequest { session, .. } => Some(*session),
            _ => None,
        })
        .unwrap();
    pair.server
        .accept(sid, ConnectResponse::new(http::StatusCode::OK))
        .unwrap();
    pair.run();
    pair.client
        .send_datagram(s, bytes::Bytes::from_static(b"hello"))
        .unwrap();
    let st = pair.client.open_bi(s).unwrap();
    pair.client
        .write(st, bytes::Bytes::from_static(b"ping"))
        .unwrap();
    pair.client.finish(st).unwrap();
    pair.run();
    pair.client.close_session(s, 42, "bye").unwrap();
    pair.run();
    println!("{}", pair.trace());
    println!("{:?}", pair.wire_errors());
    println!(
        "{:?}\n{:?}",
        pair.client.live_entries(),
        pair.server.live_entries()
    );
}
