//! The test transport: one end of a `socketpair(AF_UNIX, SOCK_DGRAM)` whose
//! peer (`auditlink.testing.FakeKernel`, or the cargo tests) plays the kernel.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Mutex;

use rustix::net::{RecvAncillaryBuffer, RecvFlags, ReturnFlags, SendFlags};

use crate::error::{Error, Result};
use crate::netlink::socket::{recv_buffer_size, Datagrams, Received};

/// Size of the sender-id prefix on datagrams from the fake kernel.
pub const FRAME_PREFIX: usize = 4;

/// A frame with this sender id and a 4-byte body is not a datagram but a
/// socket error (an errno, native i32) the fake kernel injects, so tests can
/// exercise what only a real netlink socket produces (ENOBUFS overruns).
pub const ERROR_FRAME_SENDER: u32 = u32::MAX;

/// A `SOCK_DGRAM` unix socket whose peer prefixes every datagram with the
/// sender's port id as a native-endian u32. The client's datagrams go out
/// unframed, exactly as they would to netlink.
#[derive(Debug)]
pub struct FramedSocket {
    fd: OwnedFd,
    port_id: u32,
    /// A socket error met after some datagrams of one `recv_many` were read,
    /// reported by the next call (as recvmmsg(2) does on a netlink socket).
    deferred: Mutex<Option<io::Error>>,
}

impl FramedSocket {
    /// Take ownership of one end of a socketpair. `port_id` is what the fake
    /// kernel will know this client as.
    pub fn new(fd: OwnedFd, port_id: u32) -> Self {
        FramedSocket {
            fd,
            port_id,
            deferred: Mutex::new(None),
        }
    }

    pub fn port_id(&self) -> u32 {
        self.port_id
    }

    pub fn send(&self, datagram: &[u8]) -> io::Result<usize> {
        Ok(rustix::net::send(&self.fd, datagram, SendFlags::empty())?)
    }

    /// Receive one framed datagram into `buf`.
    pub fn recv(&self, buf: &mut [u8], nonblocking: bool) -> io::Result<Received> {
        let mut prefix = [0u8; FRAME_PREFIX];
        let mut flags = RecvFlags::TRUNC;
        if nonblocking {
            flags |= RecvFlags::DONTWAIT;
        }
        let cap = buf.len();
        let got = {
            let mut iov = [IoSliceMut::new(&mut prefix), IoSliceMut::new(&mut *buf)];
            rustix::net::recvmsg(
                &self.fd,
                &mut iov,
                &mut RecvAncillaryBuffer::default(),
                flags,
            )?
        };
        if got.bytes < FRAME_PREFIX {
            // The fake sent something too short to carry a sender id.
            return Ok(Received {
                len: 0,
                truncated: got.bytes > 0,
                sender: u32::MAX - 1,
            });
        }
        let payload = got.bytes - FRAME_PREFIX;
        let sender = u32::from_ne_bytes(prefix);
        if sender == ERROR_FRAME_SENDER && payload == 4 {
            if let Some(errno) = buf.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
                return Err(io::Error::from_raw_os_error(i32::from_ne_bytes(errno)));
            }
        }
        Ok(Received {
            len: payload.min(cap),
            truncated: payload > cap || got.flags.contains(ReturnFlags::TRUNC),
            sender,
        })
    }

    /// What `recvmmsg` does on the netlink socket, one `recv` per slot:
    /// nonblocking, EAGAIN if nothing is queued, and a socket error after the
    /// first datagram left for the next call.
    pub fn recv_many(&self, into: &mut Datagrams) -> io::Result<()> {
        into.clear();
        let mut deferred = self.deferred.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = deferred.take() {
            return Err(e);
        }
        for i in 0..into.slots() {
            match self.recv(into.slot_mut(i), true) {
                Ok(r) => into.push(i, r),
                Err(e) if i == 0 => return Err(e),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    *deferred = Some(e);
                    break;
                }
            }
        }
        Ok(())
    }

    /// Set SO_RCVBUF (no FORCE: a unix socket needs no privilege to matter
    /// here); returns the size granted.
    pub fn set_recv_buffer_size(&self, size: usize) -> Result<usize> {
        rustix::net::sockopt::set_socket_recv_buffer_size(&self.fd, size)
            .map_err(|e| Error::io("setsockopt(SO_RCVBUF)", e))?;
        recv_buffer_size(&self.fd)
    }
}

impl AsFd for FramedSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A framed socket known as `port_id` and the fake kernel's end of its pair.
#[cfg(test)]
pub(crate) fn test_pair(port_id: u32) -> (FramedSocket, OwnedFd) {
    use rustix::net::{AddressFamily, SocketFlags, SocketType};
    let (a, b) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .expect("socketpair");
    (FramedSocket::new(a, port_id), b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (FramedSocket, OwnedFd) {
        test_pair(77)
    }

    fn frame(sender: u32, body: &[u8]) -> Vec<u8> {
        let mut d = sender.to_ne_bytes().to_vec();
        d.extend_from_slice(body);
        d
    }

    #[test]
    fn framed_round_trip_and_truncation() {
        let (client, b) = pair();
        // Client -> fake: unframed.
        client.send(b"request").unwrap();
        let mut buf = [0u8; 64];
        let n = rustix::net::recv(&b, &mut buf[..], RecvFlags::empty())
            .unwrap()
            .0;
        assert_eq!(&buf[..n], b"request");
        // Fake -> client: sender prefix.
        rustix::net::send(&b, &frame(0, b"hello"), SendFlags::empty()).unwrap();
        let got = client.recv(&mut buf, false).unwrap();
        assert_eq!(
            got,
            Received {
                len: 5,
                truncated: false,
                sender: 0
            }
        );
        assert_eq!(&buf[..5], b"hello");
        // Too big for the buffer: flagged as truncated.
        rustix::net::send(&b, &frame(9, &[1u8; 100]), SendFlags::empty()).unwrap();
        let got = client.recv(&mut buf, false).unwrap();
        assert!(got.truncated);
        assert_eq!(got.sender, 9);
        // Nothing queued + nonblocking: EAGAIN.
        let e = client.recv(&mut buf, true).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn receive_slots_double_when_a_read_fills_them_all() {
        let (client, b) = pair();
        let mut dg = Datagrams::new(64, 4);
        assert_eq!((dg.slots(), dg.max_slots()), (1, 4));
        for i in 0..7u8 {
            rustix::net::send(&b, &frame(0, &[i]), SendFlags::empty()).unwrap();
        }
        let mut got = Vec::new();
        for want in [1, 2, 4] {
            client.recv_many(&mut dg).unwrap();
            assert_eq!((dg.slots(), dg.len()), (want, want));
            got.extend((0..dg.len()).map(|i| dg.get(i).unwrap().1[0]));
        }
        assert_eq!(got, (0..7).collect::<Vec<u8>>());
        // Never past the maximum; a read that fills fewer keeps the size.
        rustix::net::send(&b, &frame(0, b"x"), SendFlags::empty()).unwrap();
        client.recv_many(&mut dg).unwrap();
        assert_eq!((dg.slots(), dg.len()), (4, 1));
        client.recv_many(&mut dg).unwrap_err();
        assert_eq!(dg.slots(), 4);
    }

    #[test]
    fn recv_many_defers_an_error_after_datagrams() {
        let (client, b) = pair();
        let mut dg = Datagrams::new(64, 4);
        rustix::net::send(&b, &frame(0, b"one"), SendFlags::empty()).unwrap();
        let enobufs = frame(ERROR_FRAME_SENDER, &libc::ENOBUFS.to_ne_bytes());
        rustix::net::send(&b, &enobufs, SendFlags::empty()).unwrap();
        rustix::net::send(&b, &frame(0, b"two"), SendFlags::empty()).unwrap();
        client.recv_many(&mut dg).unwrap();
        assert_eq!(dg.len(), 1);
        assert_eq!(dg.get(0).unwrap().1, b"one");
        let e = client.recv_many(&mut dg).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOBUFS));
        client.recv_many(&mut dg).unwrap();
        assert_eq!(dg.get(0).unwrap().1, b"two");
        let e = client.recv_many(&mut dg).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }
}
