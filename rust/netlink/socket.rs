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

/// x86-64's transparent huge page.
const HUGE_PAGE: usize = 2 << 20;

/// Receive slots for `recv_many`: `slots` buffers of `slot_size` bytes in one
/// allocation, reused for every read, and what the last read put in them.
///
/// A read fills the slots from the first free one: every slot, unless
/// [`Datagrams::keep`] set aside the datagrams of earlier reads (a block of
/// slots handed on whole, so a record is never copied out of its slot).
#[derive(Debug)]
pub struct Datagrams {
    /// The slots are `buf[start..start + len]`.
    buf: Vec<u8>,
    start: usize,
    len: usize,
    slot_size: usize,
    /// (slot, what it received), in arrival order.
    got: Vec<(usize, Received)>,
    /// The first slot a read may fill (slots before it are kept).
    first_free: usize,
    /// One past the last slot the last read filled.
    read_end: usize,
}

impl Datagrams {
    /// `slot_size` bounds one datagram (a longer one is reported truncated).
    pub fn new(slot_size: usize, slots: usize) -> Self {
        Self::block(slot_size, slots.clamp(1, MAX_SLOTS))
    }

    /// Any number of slots (a read still fills at most [`MAX_SLOTS`]).
    ///
    /// Blocks of 2 MiB or more lie on transparent huge pages where the
    /// kernel grants them: one record per slot would otherwise touch a 4 KiB
    /// page per record, and the TLB misses of writing and then reading
    /// records scattered over many pages cost more than copying them.
    pub fn block(slot_size: usize, slots: usize) -> Self {
        let slots = slots.max(1);
        let len = slot_size * slots;
        let huge = len >= HUGE_PAGE / 2;
        let pages = len.div_ceil(HUGE_PAGE);
        // Zeroed by the allocator (calloc, i.e. fresh pages): nothing is
        // touched before a datagram lands.
        let buf = vec![0u8; if huge { (pages + 1) * HUGE_PAGE } else { len }];
        let start = if huge {
            let start = buf.as_ptr().align_offset(HUGE_PAGE);
            // SAFETY: madvise on `pages` whole huge pages inside `buf`: start
            // is aligned and start + pages * HUGE_PAGE <= buf.len(); advice only.
            unsafe {
                libc::madvise(
                    buf.as_ptr().add(start) as *mut libc::c_void,
                    pages * HUGE_PAGE,
                    libc::MADV_HUGEPAGE,
                )
            };
            start
        } else {
            0
        };
        Datagrams {
            buf,
            start,
            len,
            slot_size,
            got: Vec::with_capacity(slots.min(MAX_SLOTS)),
            first_free: 0,
            read_end: 0,
        }
    }

    pub fn slots(&self) -> usize {
        self.len / self.slot_size.max(1)
    }

    /// Slots the next read may fill.
    pub fn free_slots(&self) -> usize {
        self.slots() - self.first_free
    }

    /// Keep what the last read got: the next read fills the slots after it.
    pub fn keep(&mut self) {
        self.first_free = self.first_free.max(self.read_end);
        self.got.clear();
    }

    /// Keep `len` bytes copied into the free slots (as many as they take);
    /// their offset in [`Datagrams::arena`], or None if they do not fit.
    pub fn keep_copy(&mut self, bytes: &[u8]) -> Option<usize> {
        let slots = bytes.len().div_ceil(self.slot_size.max(1)).max(1);
        if slots > self.free_slots() {
            return None;
        }
        let start = self.first_free * self.slot_size;
        self.arena_mut()[start..start + bytes.len()].copy_from_slice(bytes);
        self.first_free += slots;
        self.read_end = self.first_free;
        Some(start)
    }

    /// Free every slot (kept ones too).
    pub fn reset(&mut self) {
        self.got.clear();
        self.first_free = 0;
        self.read_end = 0;
    }

    /// All the slots' bytes: datagrams lie at `slot * slot_size`.
    pub fn arena(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }

    fn arena_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.start + self.len]
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
        Some((r, self.arena().get(start..start + r.len)?))
    }

    /// Keep only the datagrams `keep` accepts (it sees each one once, in order).
    pub fn retain(&mut self, mut keep: impl FnMut(Received, &[u8]) -> bool) {
        let (arena, slot_size) = (&self.buf[self.start..self.start + self.len], self.slot_size);
        self.got.retain(|&(slot, r)| {
            let start = slot * slot_size;
            keep(r, arena.get(start..start + r.len).unwrap_or(&[]))
        });
    }

    /// Forget what the last read got (before the next read); the slots a
    /// read may fill: `first..first + count`.
    pub(crate) fn clear(&mut self) -> (usize, usize) {
        self.got.clear();
        self.read_end = self.first_free;
        (self.first_free, self.free_slots().min(MAX_SLOTS))
    }

    /// Slot `i`, to receive into; record the result with [`Datagrams::push`].
    pub(crate) fn slot_mut(&mut self, i: usize) -> &mut [u8] {
        let start = i * self.slot_size;
        let slot_size = self.slot_size;
        &mut self.arena_mut()[start..start + slot_size]
    }

    /// Record that slot `slot` received `r`.
    pub(crate) fn push(&mut self, slot: usize, r: Received) {
        self.got.push((slot, r));
        self.read_end = self.read_end.max(slot + 1);
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

    /// Receive as many queued datagrams as fit in `into`'s slots with one
    /// `recvmmsg` (nonblocking; `MSG_TRUNC` makes the kernel report each
    /// datagram's real size, so one longer than its slot is flagged, never
    /// silently cut). On a busy stream this spares a syscall entry
    /// and exit (and, with audit on, its audit bookkeeping) per record.
    /// Returns EAGAIN when nothing is queued.
    pub fn recv_many(&self, into: &mut Datagrams) -> io::Result<()> {
        let (first, slots) = into.clear();
        if slots == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no free receive slot",
            ));
        }
        let slot_size = into.slot_size;
        // SAFETY: a slot is free, so `first` < slots(): inside the arena.
        let base = unsafe { into.arena_mut().as_mut_ptr().add(first * slot_size) };
        // On the stack: no allocation per call.
        // SAFETY: sockaddr_nl, iovec and mmsghdr are plain C structs for which
        // all-zero bytes are a valid value.
        let mut addrs: [libc::sockaddr_nl; MAX_SLOTS] = unsafe { std::mem::zeroed() };
        let mut iovs: [libc::iovec; MAX_SLOTS] = unsafe { std::mem::zeroed() };
        let mut msgs: [libc::mmsghdr; MAX_SLOTS] = unsafe { std::mem::zeroed() };
        for i in 0..slots {
            // SAFETY: slot first + i lies inside the arena: slots <= free_slots().
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
        for (i, (m, a)) in msgs.iter().zip(&addrs).take(n as usize).enumerate() {
            let full = m.msg_len as usize;
            let from_netlink = a.nl_family as i32 == libc::AF_NETLINK;
            into.push(
                first + i,
                Received {
                    len: full.min(slot_size),
                    truncated: full > slot_size || m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
                    sender: if from_netlink { a.nl_pid } else { u32::MAX },
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
