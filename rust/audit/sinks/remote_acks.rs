//! The `remote` sink's acknowledgement reader: one thread per connection that reads the receiver's replies as they come, matches them to the messages sent by sequence number, and answers each batch in the order batches were written.
//!
//! A central auditd makes every accepted connection non-blocking and writes
//! each reply with a plain `write` that gives up on `EAGAIN`
//! (src/auditd-listen.c in linux-audit/audit-userspace), so replies must be
//! read while later batches are being written, never left to fill the
//! sender's receive buffer. The thread asks the kernel to wake it only once
//! the replies it still waits for can be there (`SO_RCVLOWAT`, at most
//! [`MAX_LOWAT`] bytes): one wake-up per many records rather than one each.

use std::io::Read;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;

use super::remote::{classify, next_sequence, Header, Reply, HEADER_SIZE};
use super::worker::Delivery;

/// The most reply bytes one wake-up waits for: 64 acknowledgements. Each
/// arrives in a segment of its own, whose buffer counts against the receive
/// buffer far beyond its 16 bytes; waiting for many more would close the
/// receive window, and auditd drops what it cannot write at once.
const MAX_LOWAT: usize = 1 << 10;

/// What one written batch expects back.
#[derive(Debug)]
pub(super) struct Expect {
    /// Sequence number of its first message (the next ones follow
    /// [`next_sequence`]).
    pub first_seq: u32,
    pub messages: usize,
    /// Messages up to and including each event (empty for a heartbeat).
    pub ends: Vec<usize>,
}

/// The reader thread of one connection, and the order of the batches it awaits.
pub(super) struct AckReader {
    expect: Option<Sender<Expect>>,
    answers: Receiver<Delivery>,
    thread: Option<JoinHandle<()>>,
    /// Batches handed to the thread whose answer was not taken yet.
    outstanding: usize,
}

impl AckReader {
    /// Start reading replies from `stream` (a clone of the connection; its
    /// read timeout is how long a reply may take) on a thread called `thread`.
    pub(super) fn start(
        stream: TcpStream,
        peer: String,
        thread: &str,
    ) -> std::io::Result<AckReader> {
        let (expect, batches) = channel::<Expect>();
        let (answer, answers) = channel();
        let mut replies = Replies {
            stream,
            buf: vec![0; 64 << 10],
            start: 0,
            end: 0,
            lowat: 1,
            peer,
        };
        let thread = std::thread::Builder::new()
            .name(thread.into())
            .spawn(move || {
                while let Ok(batch) = batches.recv() {
                    let d = replies.batch(&batch);
                    let failed = d.error.is_some();
                    if answer.send(d).is_err() || failed {
                        break;
                    }
                }
            })?;
        Ok(AckReader {
            expect: Some(expect),
            answers,
            thread: Some(thread),
            outstanding: 0,
        })
    }

    /// Await the replies of a batch just written; `false` when the thread
    /// has stopped (after an error: the connection is done for).
    pub(super) fn expect(&mut self, batch: Expect) -> bool {
        let sent = self.expect.as_ref().is_some_and(|e| e.send(batch).is_ok());
        if sent {
            self.outstanding += 1;
        }
        sent
    }

    /// The answer for the oldest batch awaited (waits for it).
    pub(super) fn answer(&mut self) -> Delivery {
        if self.outstanding == 0 {
            return failed("no batch awaits acknowledgements");
        }
        self.outstanding -= 1;
        self.answers
            .recv()
            .unwrap_or_else(|_| failed("the connection failed before these were acknowledged"))
    }

    /// Stop the thread (the caller has shut the connection down, which ends
    /// a read in progress).
    pub(super) fn stop(&mut self) {
        self.expect = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn failed(why: &str) -> Delivery {
    Delivery {
        error: Some(why.into()),
        ..Delivery::default()
    }
}

/// The receiving side of the connection: replies buffered as they arrive.
struct Replies {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The `SO_RCVLOWAT` set now.
    lowat: usize,
    peer: String,
}

impl Replies {
    /// Read the replies of one batch; the delivery says how many leading
    /// events were written by the receiver.
    fn batch(&mut self, batch: &Expect) -> Delivery {
        let mut d = Delivery {
            sent: batch.ends.len(),
            ..Delivery::default()
        };
        let mut seq = batch.first_seq;
        let mut answered = 0;
        while answered < batch.messages {
            let (h, text) = match self.next(batch.messages - answered) {
                Ok(r) => r,
                Err(e) => {
                    d.error = Some(e);
                    break;
                }
            };
            let reply = classify(&h, &text);
            if reply == Reply::Ending {
                d.error = Some("remote end is shutting down".into());
                break;
            }
            if h.sequence != seq {
                d.error = Some(format!(
                    "{} answered message {} where {seq} was due",
                    self.peer, h.sequence
                ));
                break;
            }
            match reply {
                Reply::Written | Reply::Ending => {}
                Reply::WrittenWithWarning(w) => d.warning = Some(w),
                Reply::NotWritten(e) => {
                    d.error = Some(e);
                    break;
                }
            }
            answered += 1;
            seq = next_sequence(seq);
        }
        d.acked = batch.ends.iter().take_while(|&&c| c <= answered).count();
        d
    }

    /// The next reply, `remaining` replies (this one included) being due.
    fn next(&mut self, remaining: usize) -> Result<(Header, String), String> {
        loop {
            let have = &self.buf[self.start..self.end];
            let mut need = (remaining * HEADER_SIZE).max(HEADER_SIZE);
            if have.len() >= HEADER_SIZE {
                let h = Header::decode(have)?;
                let whole = HEADER_SIZE + h.length as usize;
                if have.len() >= whole {
                    let text = String::from_utf8_lossy(&have[HEADER_SIZE..whole]).into_owned();
                    self.start += whole;
                    return Ok((h, text));
                }
                need = need.max(whole);
            }
            self.fill(need - have.len())?;
        }
    }

    /// Read at least `want` more bytes if they come in time (fewer when the
    /// read times out with some).
    fn fill(&mut self, want: usize) -> Result<(), String> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        if self.buf.len() - self.end < want && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.buf.len() - self.end < want {
            self.buf.resize(self.end + want, 0);
        }
        self.set_lowat(want.clamp(1, MAX_LOWAT));
        match self.stream.read(&mut self.buf[self.end..]) {
            Ok(0) => Err(format!("{} closed the connection", self.peer)),
            Ok(n) => {
                self.end += n;
                Ok(())
            }
            Err(e) => Err(format!("waiting for ack from {}: {e}", self.peer)),
        }
    }

    fn set_lowat(&mut self, lowat: usize) {
        if lowat == self.lowat {
            return;
        }
        let v = lowat as libc::c_int;
        // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from `&v`, a
        // live c_int; the fd is owned by `self.stream`.
        let rc = unsafe {
            libc::setsockopt(
                self.stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVLOWAT,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        // Without it reads just wake up more often.
        if rc == 0 {
            self.lowat = lowat;
        }
    }
}
