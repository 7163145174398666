//! The concurrency core over a socketpair: a fake kernel in the test thread
//! answers requests in any order while client threads share one client.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::net::{RecvFlags, SendFlags};

use super::*;
use crate::audit::tables::msg;
use crate::netlink::framed::test_pair;
use crate::netlink::message::{NetlinkMessage, NLMSG_ERROR};

const PORT: u32 = 4242;

/// The kernel's side of the socketpair.
struct Fake {
    fd: OwnedFd,
}

impl Fake {
    /// The next request the client sent (one message per datagram here).
    fn request(&self) -> NetlinkMessage {
        let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
        let five = Timespec {
            tv_sec: 5,
            tv_nsec: 0,
        };
        let ready = rustix::event::poll(&mut fds, Some(&five)).unwrap();
        assert_eq!(ready, 1, "no request from the client within 5 s");
        let mut buf = vec![0u8; 65536];
        let (n, _) = rustix::net::recv(&self.fd, &mut buf[..], RecvFlags::empty()).unwrap();
        let m = message::messages(&buf[..n]).next().unwrap().unwrap();
        m.to_owned()
    }

    /// Send `msgs` as one datagram from the kernel (sender 0).
    fn send(&self, msgs: &[Vec<u8>]) {
        let mut d = 0u32.to_ne_bytes().to_vec();
        for m in msgs {
            d.extend_from_slice(m);
        }
        rustix::net::send(&self.fd, &d, SendFlags::empty()).unwrap();
    }
}

fn ack(req: &NetlinkMessage) -> Vec<u8> {
    let header = message::encode(req.msg_type, req.flags, req.seq, req.pid, &[]).unwrap();
    let mut payload = 0i32.to_ne_bytes().to_vec();
    payload.extend_from_slice(&header);
    message::encode(NLMSG_ERROR, 0, req.seq, PORT, &payload).unwrap()
}

/// A reply carrying the request's own payload back.
fn echo(req: &NetlinkMessage) -> Vec<u8> {
    message::encode(req.msg_type, 0, req.seq, PORT, &req.payload).unwrap()
}

fn record(payload: &[u8]) -> Vec<u8> {
    message::encode(msg::USER, 0, 0, 0, payload).unwrap()
}

fn pair_with(opts: ClientOptions) -> (Arc<AuditClient>, Fake) {
    let (socket, fd) = test_pair(PORT);
    let client = AuditClient::with_transport(Transport::Framed(socket), opts, None).unwrap();
    (Arc::new(client), Fake { fd })
}

fn pair(reply_timeout: Duration) -> (Arc<AuditClient>, Fake) {
    pair_with(ClientOptions {
        reply_timeout,
        ..ClientOptions::default()
    })
}

/// A thread asking for `payload` echoed back (a GET-style request).
fn ask(client: &Arc<AuditClient>, payload: &'static [u8]) -> thread::JoinHandle<Result<Vec<u8>>> {
    let c = Arc::clone(client);
    thread::spawn(move || c.request_reply("echo", msg::GET, payload, msg::GET))
}

/// Wait until some thread is the reader.
fn until_reading(client: &AuditClient) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !client.lock().reader_active {
        assert!(Instant::now() < deadline, "nobody became the reader");
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn replies_out_of_order_reach_their_requests() {
    let (client, fake) = pair(Duration::from_secs(5));
    let first = client
        .start(
            "first",
            msg::GET,
            b"one",
            requests::Want::Reply(msg::GET),
            false,
        )
        .unwrap();
    let second = client
        .start(
            "second",
            msg::GET,
            b"two",
            requests::Want::Reply(msg::GET),
            false,
        )
        .unwrap();
    let (r1, r2) = (fake.request(), fake.request());
    // The second request's answer first, a record in between, the first last.
    fake.send(&[ack(&r2), echo(&r2)]);
    fake.send(&[record(b"event")]);
    fake.send(&[echo(&r1), ack(&r1)]);
    assert_eq!(client.finish(second).unwrap().replies[0].payload, b"two");
    assert_eq!(client.finish(first).unwrap().replies[0].payload, b"one");
    let rec = client.receive(Some(Duration::ZERO)).unwrap().unwrap();
    assert_eq!(rec.payload, b"event");
    assert_eq!(client.stats().stale_replies, 0);
}

#[test]
fn replies_out_of_order_between_threads() {
    let (client, fake) = pair(Duration::from_secs(5));
    let a = ask(&client, b"from a");
    let ra = fake.request();
    let b = ask(&client, b"from b");
    let rb = fake.request();
    fake.send(&[ack(&rb), echo(&rb), ack(&ra)]);
    fake.send(&[echo(&ra)]);
    assert_eq!(b.join().unwrap().unwrap(), b"from b");
    assert_eq!(a.join().unwrap().unwrap(), b"from a");
}

#[test]
fn reader_hands_a_reply_to_the_requesting_thread() {
    let (client, fake) = pair(Duration::from_secs(5));
    let c = Arc::clone(&client);
    let receiver = thread::spawn(move || c.receive(Some(Duration::from_secs(5))));
    until_reading(&client);
    // The receiver reads the socket; the request's reply must still reach us.
    let asker = ask(&client, b"mine");
    let req = fake.request();
    fake.send(&[ack(&req), echo(&req)]);
    assert_eq!(asker.join().unwrap().unwrap(), b"mine");
    assert!(
        !receiver.is_finished(),
        "the receiver took a reply as a record"
    );
    fake.send(&[record(b"for the receiver")]);
    let rec = receiver.join().unwrap().unwrap().unwrap();
    assert_eq!(rec.payload, b"for the receiver");
}

#[test]
fn a_waiting_thread_takes_over_reading() {
    let (client, fake) = pair(Duration::from_secs(5));
    let asker = ask(&client, b"first");
    let req = fake.request();
    until_reading(&client);
    // The asker reads; this receiver waits, then reads once the asker is done.
    let c = Arc::clone(&client);
    let receiver = thread::spawn(move || {
        let mut batch = Batch::default();
        c.receive_batch(&mut batch, 10, Some(Duration::from_secs(5)), Duration::ZERO)
            .map(|()| batch.get(0).map(|(_, p)| p.to_vec()))
    });
    thread::sleep(Duration::from_millis(20));
    fake.send(&[ack(&req), echo(&req)]);
    assert_eq!(asker.join().unwrap().unwrap(), b"first");
    fake.send(&[record(b"later")]);
    let got = receiver.join().unwrap().unwrap();
    assert_eq!(got.as_deref(), Some(&b"later"[..]));
}

#[test]
fn close_wakes_a_blocked_receive() {
    let (client, _fake) = pair(Duration::from_secs(5));
    let c = Arc::clone(&client);
    let receiver = thread::spawn(move || c.receive(None));
    until_reading(&client);
    let c = Arc::clone(&client);
    let batcher = thread::spawn(move || {
        let mut batch = Batch::default();
        c.receive_batch(&mut batch, 10, None, Duration::ZERO)
    });
    thread::sleep(Duration::from_millis(20));
    let closed_at = Instant::now();
    client.shutdown();
    assert!(matches!(receiver.join().unwrap(), Err(Error::Closed)));
    assert!(matches!(batcher.join().unwrap(), Err(Error::Closed)));
    assert!(closed_at.elapsed() < Duration::from_secs(1));
}

#[test]
fn close_wakes_a_request_waiting_for_its_reply() {
    let (client, fake) = pair(Duration::from_secs(60));
    let asker = ask(&client, b"never answered");
    fake.request();
    until_reading(&client);
    let closed_at = Instant::now();
    client.shutdown();
    assert!(matches!(asker.join().unwrap(), Err(Error::Closed)));
    assert!(closed_at.elapsed() < Duration::from_secs(1));
    assert!(client.lock().pending.is_empty());
    assert!(matches!(
        client.request_ack("after", msg::SET, &[], WaitMode::WaitForReply),
        Err(Error::Closed)
    ));
}

#[test]
fn foreign_and_truncated_datagrams_are_counted_and_dropped() {
    let (client, fake) = pair_with(ClientOptions {
        read_buffer_size: 64,
        ..ClientOptions::default()
    });
    let mut spoofed = 99u32.to_ne_bytes().to_vec();
    spoofed.extend_from_slice(&record(b"spoofed"));
    rustix::net::send(&fake.fd, &spoofed, SendFlags::empty()).unwrap();
    fake.send(&[record(&[b'x'; 100])]);
    fake.send(&[record(b"whole")]);
    let rec = client
        .receive(Some(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    assert_eq!(rec.payload, b"whole");
    let s = client.stats();
    assert_eq!((s.foreign_dropped, s.truncated, s.datagrams), (1, 1, 3));
}
