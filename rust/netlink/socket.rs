//! The AF_NETLINK socket (fd owner, options, send, `recvmmsg` into reused
//! slots) and the receive slots every transport fills.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use rustix::net::netlink::SocketAddrNetlink;
use rustix::net::{AddressFamily, Protocol, SendFlags, SocketFlags, SocketType};

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

/// The most datagrams one `recv_many` call reads.
pub const MAX_SLOTS: usize = 32;

/// Receive slots for `recv_many`: up to `max_slots` buffers of `slot_size`
/// bytes in one allocation, reused for every read, and what the last read put
/// in them. The slots start as one and double whenever a read fills them all:
/// a client that only reads replies never pays for zeroing the full arena (a
/// megabyte by default, most of what opening a client cost), while a busy
/// stream reaches the full size within a few reads.
#[derive(Debug)]
pub struct Datagrams {
    arena: Vec<u8>,
    slot_size: usize,
    max_slots: usize,
    /// (slot, what it received), in arrival order.
    got: Vec<(usize, Received)>,
}

impl Datagrams {
    /// `slot_size` bounds one datagram (a longer one is reported truncated).
    pub fn new(slot_size: usize, slots: usize) -> Self {
        let max_slots = slots.clamp(1, MAX_SLOTS);
        Datagrams {
            arena: vec![0; slot_size],
            slot_size,
            max_slots,
            got: Vec::with_capacity(max_slots),
        }
    }

    /// The slots the next read fills at most (see [`Datagrams::clear`]).
    pub fn slots(&self) -> usize {
        self.arena.len() / self.slot_size.max(1)
    }

    /// The slots there will be once reads have filled them all.
    #[cfg(test)]
    pub fn max_slots(&self) -> usize {
        self.max_slots
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

    /// Forget what the last read got (before the next read); if it filled
    /// every slot, double the slots (up to `max_slots`).
    pub(crate) fn clear(&mut self) {
        let slots = self.slots();
        if self.got.len() >= slots && slots < self.max_slots {
            let grown = (slots * 2).min(self.max_slots);
            self.arena.resize(grown * self.slot_size, 0);
        }
        self.got.clear();
    }

    /// Slot `i`, to receive into; record the result with [`Datagrams::push`].
    pub(crate) fn slot_mut(&mut self, i: usize) -> &mut [u8] {
        let start = i * self.slot_size;
        &mut self.arena[start..start + self.slot_size]
    }

    /// Record that slot `slot` received `r`.
    pub(crate) fn push(&mut self, slot: usize, r: Received) {
        self.got.push((slot, r));
    }
}

/// A bound AF_NETLINK raw socket. Owns its fd (closed on drop, CLOEXEC); not
/// `Clone`; every method takes `&self`, so it can be shared between threads.
#[derive(Debug)]
pub struct NetlinkSocket {
    fd: OwnedFd,
    port_id: u32,
    /// Connected to the kernel: only the kernel can send to this socket.
    kernel_only: bool,
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
        Ok(NetlinkSocket {
            fd,
            port_id,
            kernel_only: false,
        })
    }

    /// Take datagrams from the kernel only: connected to port 0, the socket
    /// is one the kernel refuses (ECONNREFUSED) to deliver another process's
    /// unicast to (`netlink_getsockbyportid`), so reads need not ask for
    /// each datagram's sender: copying those addresses out costs a receive
    /// several user-memory accesses per datagram. Multicast is unaffected.
    pub fn connect_to_kernel(&mut self) -> Result<()> {
        rustix::net::connect(&self.fd, &SocketAddrNetlink::new(0, 0))
            .map_err(|e| Error::io("connect(AF_NETLINK)", e))?;
        self.kernel_only = true;
        Ok(())
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

    /// Receive as many queued datagrams as fit in `into`'s slots with one
    /// `recvmmsg` (nonblocking; `MSG_TRUNC` makes the kernel report each
    /// datagram's real size, so one longer than its slot is flagged, never
    /// silently cut). On a busy stream this spares a syscall entry
    /// and exit (and, with audit on, its audit bookkeeping) per record.
    /// Returns EAGAIN when nothing is queued.
    pub fn recv_many(&self, into: &mut Datagrams) -> io::Result<()> {
        into.clear();
        let slots = into.slots();
        let slot_size = into.slot_size;
        let base = into.arena.as_mut_ptr();
        // On the stack: no allocation per call.
        // SAFETY: sockaddr_nl, iovec and mmsghdr are plain C structs for which
        // all-zero bytes are a valid value.
        let mut addrs: [libc::sockaddr_nl; MAX_SLOTS] = unsafe { std::mem::zeroed() };
        let mut iovs: [libc::iovec; MAX_SLOTS] = unsafe { std::mem::zeroed() };
        let mut msgs: [libc::mmsghdr; MAX_SLOTS] = unsafe { std::mem::zeroed() };
        let kernel_only = self.kernel_only;
        for i in 0..slots {
            // SAFETY: slot i lies inside the arena: i * slot_size + slot_size <= len.
            iovs[i].iov_base = unsafe { base.add(i * slot_size) }.cast();
            iovs[i].iov_len = slot_size;
            let hdr = &mut msgs[i].msg_hdr;
            if !kernel_only {
                hdr.msg_name = (&mut addrs[i] as *mut libc::sockaddr_nl).cast();
                hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_nl>() as u32;
            }
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
            let sender = if kernel_only {
                0
            } else if a.nl_family as i32 == libc::AF_NETLINK {
                a.nl_pid
            } else {
                u32::MAX
            };
            into.push(
                slot,
                Received {
                    len: full.min(slot_size),
                    truncated: full > slot_size || m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
                    sender,
                },
            );
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
        recv_buffer_size(&self.fd)
    }
}

/// SO_RCVBUF of any socket (what the kernel granted).
pub fn recv_buffer_size(fd: impl AsFd) -> Result<usize> {
    rustix::net::sockopt::socket_recv_buffer_size(fd)
        .map_err(|e| Error::io("getsockopt(SO_RCVBUF)", e))
}

impl AsFd for NetlinkSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
