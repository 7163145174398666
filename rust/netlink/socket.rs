//! The transport seam: "send one datagram", "receive one datagram with its
//! sender's port id". The real transport is a netlink socket; the test
//! transport is one end of a `socketpair(AF_UNIX, SOCK_DGRAM)` driven by
//! `auditlink.testing.FakeKernel`. The client above uses the same code path
//! for both.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Instant;

use rustix::event::{EventfdFlags, PollFd, PollFlags, Timespec};
use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::{
    AddressFamily, Protocol, RecvAncillaryBuffer, RecvFlags, ReturnFlags, SendFlags, SocketFlags,
    SocketType,
};

use crate::error::{Error, Result};

/// What one receive call got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Bytes placed in the buffer.
    pub len: usize,
    /// The datagram was longer than the buffer; the rest is gone.
    pub truncated: bool,
    /// Port id of the sender (0 = the kernel).
    pub sender: u32,
}

/// The most datagrams one [`Transport::recv_many`] call reads.
pub const MAX_SLOTS: usize = 32;

/// Receive slots for [`Transport::recv_many`]: `slots` buffers of `slot_size`
/// bytes in one allocation, reused for every read, and what the last read put
/// in them.
#[derive(Debug)]
pub struct Datagrams {
    arena: Vec<u8>,
    slot_size: usize,
    /// (slot, what it received), in arrival order.
    got: Vec<(usize, Received)>,
    /// A socket error met after some datagrams were read, for the next call.
    deferred: Option<io::Error>,
}

impl Datagrams {
    /// `slot_size` bounds one datagram (a longer one is reported truncated).
    pub fn new(slot_size: usize, slots: usize) -> Self {
        let slots = slots.clamp(1, MAX_SLOTS);
        Datagrams {
            arena: vec![0; slot_size * slots],
            slot_size,
            got: Vec::with_capacity(slots),
            deferred: None,
        }
    }

    pub fn slots(&self) -> usize {
        self.arena.len() / self.slot_size.max(1)
    }

    pub fn slot_size(&self) -> usize {
        self.slot_size
    }

    /// How many datagrams the last read returned.
    pub fn len(&self) -> usize {
        self.got.len()
    }

    pub fn is_empty(&self) -> bool {
        self.got.is_empty()
    }

    /// The i-th datagram of the last read: what was received and its bytes.
    pub fn get(&self, i: usize) -> Option<(Received, &[u8])> {
        let (slot, r) = *self.got.get(i)?;
        let start = slot * self.slot_size;
        Some((r, self.arena.get(start..start + r.len)?))
    }

    /// Keep only the datagrams `keep` accepts (it sees each one once, in order).
    pub fn retain(&mut self, mut keep: impl FnMut(Received, &[u8]) -> bool) {
        let (arena, slot_size) = (&self.arena, self.slot_size);
        self.got.retain(|&(slot, r)| {
            let start = slot * slot_size;
            keep(r, arena.get(start..start + r.len).unwrap_or(&[]))
        });
    }

    fn slot_mut(&mut self, i: usize) -> &mut [u8] {
        let start = i * self.slot_size;
        &mut self.arena[start..start + self.slot_size]
    }
}

/// A bound AF_NETLINK raw socket. Owns its fd (closed on drop, CLOEXEC); not
/// `Clone`; every method takes `&self`, so it can be shared between threads.
#[derive(Debug)]
pub struct NetlinkSocket {
    fd: OwnedFd,
    port_id: u32,
}

impl NetlinkSocket {
    /// `socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, protocol)` bound to an
    /// auto-assigned port id and the multicast `groups` bitmask.
    pub fn open(protocol: u32, groups: u32) -> Result<Self> {
        let proto = std::num::NonZeroU32::new(protocol).map(Protocol::from_raw);
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::RAW,
            SocketFlags::CLOEXEC,
            proto,
        )
        .map_err(|e| Error::io("socket(AF_NETLINK)", e))?;
        // pid 0: let the kernel assign a unique port id.
        rustix::net::bind(&fd, &SocketAddrNetlink::new(0, groups))
            .map_err(|e| Error::io("bind(AF_NETLINK)", e))?;
        let addr = rustix::net::getsockname(&fd).map_err(|e| Error::io("getsockname", e))?;
        let port_id = SocketAddrNetlink::try_from(addr)
            .map_err(|_| Error::Malformed("getsockname did not return a netlink address".into()))?
            .pid();
        Ok(NetlinkSocket { fd, port_id })
    }

    /// The port id the kernel assigned to this socket.
    pub fn port_id(&self) -> u32 {
        self.port_id
    }

    /// Send one datagram to the kernel.
    pub fn send(&self, datagram: &[u8]) -> io::Result<usize> {
        let kernel = SocketAddrNetlink::new(0, 0);
        Ok(rustix::net::sendto(
            &self.fd,
            datagram,
            SendFlags::empty(),
            &kernel,
        )?)
    }

    /// Receive one datagram. `MSG_TRUNC` makes the kernel report the real
    /// size, so a datagram larger than `buf` is detected, never silently cut.
    pub fn recv(&self, buf: &mut [u8], nonblocking: bool) -> io::Result<Received> {
        let mut flags = RecvFlags::TRUNC;
        if nonblocking {
            flags |= RecvFlags::DONTWAIT;
        }
        let (_, full_len, addr) = rustix::net::recvfrom(&self.fd, &mut *buf, flags)?;
        let sender = match addr.map(SocketAddrNetlink::try_from) {
            Some(Ok(a)) => a.pid(),
            // No or foreign address: treat as not-the-kernel.
            _ => u32::MAX,
        };
        Ok(Received {
            len: full_len.min(buf.len()),
            truncated: full_len > buf.len(),
            sender,
        })
    }

    /// Receive as many queued datagrams as fit in `into`'s slots with one
    /// `recvmmsg` (nonblocking). On a busy stream this spares a syscall entry
    /// and exit (and, with audit on, its audit bookkeeping) per record.
    /// Returns EAGAIN when nothing is queued.
    pub fn recv_many(&self, into: &mut Datagrams) -> io::Result<()> {
        into.got.clear();
        let slots = into.slots();
        let slot_size = into.slot_size;
        let base = into.arena.as_mut_ptr();
        // On the stack: no allocation per call.
        // SAFETY: sockaddr_nl, iovec and mmsghdr are plain C structs for which
        // all-zero bytes are a valid value.
        let mut addrs: [libc::sockaddr_nl; MAX_SLOTS] = unsafe { std::mem::zeroed() };
        let mut iovs: [libc::iovec; MAX_SLOTS] = unsafe { std::mem::zeroed() };
        let mut msgs: [libc::mmsghdr; MAX_SLOTS] = unsafe { std::mem::zeroed() };
        for i in 0..slots {
            // SAFETY: slot i lies inside the arena: i * slot_size + slot_size <= len.
            iovs[i].iov_base = unsafe { base.add(i * slot_size) }.cast();
            iovs[i].iov_len = slot_size;
            let hdr = &mut msgs[i].msg_hdr;
            hdr.msg_name = (&mut addrs[i] as *mut libc::sockaddr_nl).cast();
            hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_nl>() as u32;
            hdr.msg_iov = &mut iovs[i];
            hdr.msg_iovlen = 1;
        }
        // SAFETY: `msgs` has `slots` entries, each pointing at its own iovec
        // (one arena slot of `slot_size` bytes) and sockaddr_nl, all alive and
        // unaliased for the duration of the call.
        let n = unsafe {
            libc::recvmmsg(
                self.fd.as_raw_fd(),
                msgs.as_mut_ptr(),
                slots as libc::c_uint,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        for (slot, (m, a)) in msgs.iter().zip(&addrs).take(n as usize).enumerate() {
            let full = m.msg_len as usize;
            let from_netlink = a.nl_family as i32 == libc::AF_NETLINK;
            into.got.push((
                slot,
                Received {
                    len: full.min(slot_size),
                    truncated: full > slot_size || m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
                    sender: if from_netlink { a.nl_pid } else { u32::MAX },
                },
            ));
        }
        Ok(())
    }

    /// Set SO_RCVBUF, forcing past rmem_max (SO_RCVBUFFORCE) when privileged.
    /// Returns the size the kernel granted (it doubles the request for
    /// bookkeeping overhead; socket(7)).
    pub fn set_recv_buffer_size(&self, size: usize) -> Result<usize> {
        if rustix::net::sockopt::set_socket_recv_buffer_size_force(&self.fd, size).is_err() {
            rustix::net::sockopt::set_socket_recv_buffer_size(&self.fd, size)
                .map_err(|e| Error::io("setsockopt(SO_RCVBUF)", e))?;
        }
        self.recv_buffer_size()
    }

    /// The current SO_RCVBUF.
    pub fn recv_buffer_size(&self) -> Result<usize> {
        rustix::net::sockopt::socket_recv_buffer_size(&self.fd)
            .map_err(|e| Error::io("getsockopt(SO_RCVBUF)", e))
    }
}

impl AsFd for NetlinkSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Test transport: a `SOCK_DGRAM` unix socket whose peer (the fake kernel)
/// prefixes every datagram with the sender's port id as a native-endian u32.
/// The client's datagrams go out unframed, exactly as they would to netlink.
#[derive(Debug)]
pub struct FramedSocket {
    fd: OwnedFd,
    port_id: u32,
}

/// Size of the sender-id prefix on datagrams from the fake kernel.
pub const FRAME_PREFIX: usize = 4;

/// A frame with this sender id and a 4-byte body is not a datagram but a
/// socket error (an errno, native i32) the fake kernel injects, so tests can
/// exercise what only a real netlink socket produces (ENOBUFS overruns).
pub const ERROR_FRAME_SENDER: u32 = u32::MAX;

impl FramedSocket {
    /// Take ownership of one end of a socketpair. `port_id` is what the fake
    /// kernel will know this client as.
    pub fn new(fd: OwnedFd, port_id: u32) -> Self {
        FramedSocket { fd, port_id }
    }

    pub fn port_id(&self) -> u32 {
        self.port_id
    }

    pub fn send(&self, datagram: &[u8]) -> io::Result<usize> {
        Ok(rustix::net::send(&self.fd, datagram, SendFlags::empty())?)
    }

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
}

impl AsFd for FramedSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Wakes threads blocked in [`Waker::wait_readable`] from any other thread
/// (an eventfd polled beside the socket): how `close()` ends a blocked read.
#[derive(Debug)]
pub struct Waker {
    fd: OwnedFd,
}

impl Waker {
    pub fn new() -> Result<Self> {
        let fd = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map_err(|e| Error::io("eventfd", e))?;
        Ok(Waker { fd })
    }

    /// Wake every current and future waiter (the eventfd stays readable).
    pub fn wake(&self) {
        // Only fails if the counter would overflow, i.e. it is already set.
        let _ = rustix::io::write(&self.fd, &1u64.to_ne_bytes());
    }

    /// Wait until `socket` is readable, `deadline` passes (None = no limit), or
    /// [`Waker::wake`] was called.
    pub fn wait_until(&self, socket: &impl AsFd, deadline: Option<Instant>) -> Result<Wait> {
        let ts = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(Wait::Expired);
                }
                Some(Timespec {
                    tv_sec: left.as_secs().min(i64::MAX as u64) as i64,
                    tv_nsec: left.subsec_nanos().into(),
                })
            }
        };
        let mut fds = [
            PollFd::new(socket, PollFlags::IN),
            PollFd::new(&self.fd, PollFlags::IN),
        ];
        match rustix::event::poll(&mut fds, ts.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(Error::io("poll", e)),
        }
        Ok(if !fds[1].revents().is_empty() {
            Wait::Woken
        } else {
            Wait::Ready
        })
    }
}

/// How [`Waker::wait_until`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The socket may have data (or the poll was interrupted: look again).
    Ready,
    /// The deadline had passed.
    Expired,
    /// [`Waker::wake`] was called.
    Woken,
}

/// Either transport; the client holds one of these.
#[derive(Debug)]
pub enum Transport {
    Netlink(NetlinkSocket),
    Framed(FramedSocket),
}

impl Transport {
    pub fn port_id(&self) -> u32 {
        match self {
            Transport::Netlink(s) => s.port_id(),
            Transport::Framed(s) => s.port_id(),
        }
    }

    pub fn send(&self, datagram: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Netlink(s) => s.send(datagram),
            Transport::Framed(s) => s.send(datagram),
        }
    }

    pub fn recv(&self, buf: &mut [u8], nonblocking: bool) -> io::Result<Received> {
        match self {
            Transport::Netlink(s) => s.recv(buf, nonblocking),
            Transport::Framed(s) => s.recv(buf, nonblocking),
        }
    }

    /// Nonblocking: read what is queued, up to one datagram per slot of
    /// `into`; EAGAIN if nothing is. A socket error after the first datagram
    /// is left for the next call, as recvmmsg(2) does.
    pub fn recv_many(&self, into: &mut Datagrams) -> io::Result<()> {
        into.got.clear();
        if let Some(e) = into.deferred.take() {
            return Err(e);
        }
        match self {
            Transport::Netlink(s) => s.recv_many(into),
            Transport::Framed(s) => {
                for i in 0..into.slots() {
                    match s.recv(into.slot_mut(i), true) {
                        Ok(r) => into.got.push((i, r)),
                        Err(e) if i == 0 => return Err(e),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => {
                            into.deferred = Some(e);
                            break;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    pub fn set_recv_buffer_size(&self, size: usize) -> Result<usize> {
        match self {
            Transport::Netlink(s) => s.set_recv_buffer_size(size),
            Transport::Framed(s) => {
                rustix::net::sockopt::set_socket_recv_buffer_size(&s.fd, size)
                    .map_err(|e| Error::io("setsockopt(SO_RCVBUF)", e))?;
                rustix::net::sockopt::socket_recv_buffer_size(&s.fd)
                    .map_err(|e| Error::io("getsockopt(SO_RCVBUF)", e))
            }
        }
    }

    /// The current SO_RCVBUF (what the kernel granted).
    pub fn recv_buffer_size(&self) -> Result<usize> {
        rustix::net::sockopt::socket_recv_buffer_size(self.as_fd())
            .map_err(|e| Error::io("getsockopt(SO_RCVBUF)", e))
    }

    pub fn raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl AsFd for Transport {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Transport::Netlink(s) => s.as_fd(),
            Transport::Framed(s) => s.as_fd(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framed_round_trip_and_truncation() {
        let (a, b) = rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        let client = FramedSocket::new(a, 77);
        // Client -> fake: unframed.
        client.send(b"request").unwrap();
        let mut buf = [0u8; 64];
        let n = rustix::net::recv(&b, &mut buf[..], RecvFlags::empty())
            .unwrap()
            .0;
        assert_eq!(&buf[..n], b"request");
        // Fake -> client: sender prefix.
        let mut d = 0u32.to_ne_bytes().to_vec();
        d.extend_from_slice(b"hello");
        rustix::net::send(&b, &d, SendFlags::empty()).unwrap();
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
        let mut d = 9u32.to_ne_bytes().to_vec();
        d.extend_from_slice(&[1u8; 100]);
        rustix::net::send(&b, &d, SendFlags::empty()).unwrap();
        let got = client.recv(&mut buf, false).unwrap();
        assert!(got.truncated);
        assert_eq!(got.sender, 9);
        // Nothing queued + nonblocking: EAGAIN.
        let e = client.recv(&mut buf, true).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }
}
