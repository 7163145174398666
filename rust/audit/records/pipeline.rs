//! Reading a log on a second thread: bytes are read, split into lines, parsed
//! and grouped into events there, while the caller's thread consumes the
//! events (interprets them, writes JSON, builds Python objects). On a machine
//! with a spare core the two halves overlap.
//!
//! The channel between the threads holds at most [`QUEUE_DEPTH`] batches (one
//! batch is the events completed by one chunk of input), so memory stays
//! bounded however far the reader gets ahead. Dropping the [`EventReader`]
//! closes the channel; the reader thread notices at its next hand-over and
//! ends (it is not joined: a read from a pipe might block indefinitely).

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::Duration;

use super::{Event, LogStream};

/// Batches that may wait in the channel (each about one chunk of input).
pub const QUEUE_DEPTH: usize = 4;

/// Reads a log on its own thread; see the module documentation.
#[derive(Debug)]
pub struct EventReader {
    rx: Receiver<io::Result<Vec<Event>>>,
    recycler: Recycler,
    done: bool,
}

/// Consumed events going back to be dropped on the thread that allocated
/// them: freeing memory on another thread than the one that allocated it is
/// expensive for the allocator (glibc: the owning arena's lock, trimming), so
/// handing it back keeps the pipeline faster than one thread. Cloneable, never
/// blocks: when the channel is full or the reader has ended, events are
/// dropped where they are.
#[derive(Debug, Clone)]
pub struct Recycler(SyncSender<Trash>);

#[derive(Debug)]
enum Trash {
    One(Event),
    Many(Vec<Event>),
}

impl Trash {
    fn dispose(self) {
        match self {
            Trash::One(e) => drop(e),
            Trash::Many(v) => drop(v),
        }
    }
}

/// Events that may wait to be dropped by the reader thread.
const TRASH_DEPTH: usize = 8192;

impl Recycler {
    /// Hand one consumed event back.
    pub fn recycle(&self, event: Event) {
        let _ = self.0.try_send(Trash::One(event));
    }
    /// Hand a consumed batch back.
    pub fn recycle_all(&self, events: Vec<Event>) {
        let _ = self.0.try_send(Trash::Many(events));
    }
}

/// What [`EventReader::next_batch`] found.
#[derive(Debug)]
pub enum Next {
    /// The events completed by the next chunk (may be empty).
    Batch(Vec<Event>),
    /// Nothing yet (only with a wait limit).
    Pending,
    /// End of input: every event has been handed over.
    End,
}

impl EventReader {
    /// Start the reader thread on `src`, which it reads in `chunk_size` pieces
    /// until end of file, then flushes the events still in flight.
    pub fn spawn<R: Read + Send + 'static>(
        src: R,
        max_in_flight: usize,
        timeout_ms: u64,
        chunk_size: usize,
    ) -> io::Result<EventReader> {
        let stream = LogStream::new(max_in_flight, timeout_ms);
        EventReader::spawn_stream(src, stream, chunk_size)
    }

    /// [`EventReader::spawn`] with a stream set up by the caller (grouping options).
    pub fn spawn_stream<R: Read + Send + 'static>(
        src: R,
        stream: LogStream,
        chunk_size: usize,
    ) -> io::Result<EventReader> {
        let (tx, rx) = mpsc::sync_channel(QUEUE_DEPTH);
        let (recycle, trash) = mpsc::sync_channel(TRASH_DEPTH);
        thread::Builder::new()
            .name("auditlink-log-reader".into())
            .spawn(move || read_loop(src, stream, tx, &trash, chunk_size.max(1)))?;
        Ok(EventReader {
            rx,
            recycler: Recycler(recycle),
            done: false,
        })
    }

    /// Where consumed events can go back to (see [`Recycler`]); optional.
    pub fn recycler(&self) -> &Recycler {
        &self.recycler
    }

    /// The next batch, waiting at most `wait` (None: until there is one).
    /// A read error is returned once; after it, and after the end, `End`.
    pub fn next_batch(&mut self, wait: Option<Duration>) -> io::Result<Next> {
        if self.done {
            return Ok(Next::End);
        }
        let got = match wait {
            None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(w) => self.rx.recv_timeout(w),
        };
        match got {
            Ok(Ok(events)) => Ok(Next::Batch(events)),
            Ok(Err(e)) => {
                self.done = true;
                Err(e)
            }
            Err(RecvTimeoutError::Timeout) => Ok(Next::Pending),
            Err(RecvTimeoutError::Disconnected) => {
                self.done = true;
                Ok(Next::End)
            }
        }
    }
}

/// Events, one batch at a time, until the end or the first error.
impl Iterator for EventReader {
    type Item = io::Result<Vec<Event>>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_batch(None) {
                Ok(Next::Batch(b)) => return Some(Ok(b)),
                Ok(Next::Pending) => continue,
                Ok(Next::End) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

fn read_loop<R: Read>(
    mut src: R,
    mut stream: LogStream,
    tx: SyncSender<io::Result<Vec<Event>>>,
    trash: &Receiver<Trash>,
    chunk_size: usize,
) {
    let mut buf = vec![0u8; chunk_size];
    loop {
        while let Ok(done) = trash.try_recv() {
            done.dispose();
        }
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        let mut out = Vec::new();
        stream.feed(&buf[..n], &mut out);
        if !out.is_empty() && tx.send(Ok(out)).is_err() {
            return; // the consumer is gone
        }
    }
    let mut out = Vec::new();
    stream.finish(&mut out);
    if !out.is_empty() {
        let _ = tx.send(Ok(out));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: usize) -> Vec<u8> {
        let mut s = String::new();
        for i in 1..=n {
            s.push_str(&format!(
                "type=SYSCALL msg=audit(1700000000.{:03}:{i}): arch=c000003e syscall=59 success=yes exit=0\n\
                 type=PROCTITLE msg=audit(1700000000.{:03}:{i}): proctitle=6C73\n",
                i % 1000,
                i % 1000
            ));
        }
        s.into_bytes()
    }

    #[test]
    fn same_events_as_one_thread() {
        let data = log(3000);
        let mut one = LogStream::new(1024, 2000);
        let mut expected = Vec::new();
        one.feed(&data, &mut expected);
        one.finish(&mut expected);
        let reader = EventReader::spawn(io::Cursor::new(data), 1024, 2000, 977).unwrap();
        let got: Vec<Event> = reader.flat_map(|b| b.unwrap()).collect();
        assert_eq!(got, expected);
        assert_eq!(got.len(), 3000);
    }

    #[test]
    fn read_errors_come_through_once() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                self.0 -= 1;
                let line = b"type=USER msg=audit(1.000:1): msg='x=1'\n";
                buf[..line.len()].copy_from_slice(line);
                Ok(line.len())
            }
        }
        let mut reader = EventReader::spawn(Failing(2), 16, 2000, 4096).unwrap();
        let mut events = 0;
        let mut errors = 0;
        for b in reader.by_ref() {
            match b {
                Ok(b) => events += b.len(),
                Err(e) => {
                    errors += 1;
                    assert_eq!(e.to_string(), "disk on fire");
                }
            }
        }
        assert_eq!((events, errors), (2, 1));
        assert!(matches!(reader.next_batch(None), Ok(Next::End)));
    }

    #[test]
    fn dropping_the_reader_stops_the_thread() {
        // An endless source: the thread must end once nobody listens.
        struct Endless;
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let line = b"type=USER msg=audit(1.000:1): msg='x=1'\n";
                let n = line.len().min(buf.len());
                buf[..n].copy_from_slice(&line[..n]);
                Ok(n)
            }
        }
        let mut reader = EventReader::spawn(Endless, 16, 2000, 4096).unwrap();
        assert!(matches!(reader.next_batch(None), Ok(Next::Batch(_))));
        drop(reader); // must not hang; the thread exits at its next send
    }
}
