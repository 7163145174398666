//! The on-disk spool of one sink: a size-bounded FIFO of frames in segment files, with a persisted read cursor, that survives a restart.
//!
//! Layout of the directory: `NNNNNNNNNNNNNNNNNNNN.spool` segments (appended
//! to, oldest first) and `cursor` (`<segment> <offset>` of the first frame not
//! yet acknowledged, two fixed-width numbers rewritten in place by one
//! `pwrite` of 42 bytes, which a killed process cannot leave half done). A
//! frame is a little-endian `u32` length, a `u32` CRC-32 of the payload,
//! then the payload. A batch of frames is appended with one `write`
//! (one per segment it spans); a torn frame at the end (crash in the middle of
//! a write) is cut off on open. Writes are not fsync'ed: the spool survives a
//! crash of the process, not a power loss of the host.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

const FRAME_HEADER: u64 = 8;
/// Segments are rotated at this size (or at an eighth of the limit, if smaller)
/// so that acknowledged data is given back to the file system in steps.
const SEGMENT_MAX: u64 = 8 << 20;
/// Bytes `peek` reads at once (at least; more when the batch allows).
const READ_CHUNK: u64 = 64 << 10;
/// Frames written lately are kept in memory up to this size, so that a
/// deliverer keeping up with the appends reads them back from there.
const RECENT_MAX: usize = 8 << 20;

/// What a full spool does with a new event.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FullAction {
    /// Make room by discarding the oldest waiting events.
    #[default]
    DropOldest,
    /// Discard the new event.
    DropNewest,
    /// Discard new events until the spool has drained to half its limit.
    Suspend,
}

/// Result of [`Spool::append_batch`], in payloads.
#[derive(Debug, Default)]
pub struct BatchAppended {
    /// Stored (in order).
    pub stored: u64,
    /// Older events discarded to make room (`DropOldest`).
    pub dropped_oldest: u64,
    /// Refused because the spool is full (or the payload alone exceeds the
    /// limit); with `Suspend`, every payload after the first refused one too.
    pub full: u64,
    /// Lost because the spool could not be written (`error` says why).
    pub failed: u64,
    pub error: Option<io::Error>,
}

/// Result of [`Spool::append`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored; this many older events were discarded to make room.
    Stored { dropped_oldest: u64 },
    /// Not stored: the spool is full (or the event alone exceeds the limit).
    Full,
}

fn checksum(b: &[u8]) -> u32 {
    crc32fast::hash(b)
}

/// Whether `sum` is the payload's checksum: CRC-32, or the FNV-1a of spools
/// written by earlier versions (byte at a time, too slow for the hot path, but
/// what an upgraded host may still have waiting).
fn checksum_ok(payload: &[u8], sum: u32) -> bool {
    checksum(payload) == sum || {
        let mut h: u32 = 0x811c_9dc5;
        for &c in payload {
            h = (h ^ c as u32).wrapping_mul(0x0100_0193);
        }
        h == sum
    }
}

#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    segment_bytes: u64,
    /// Segment ids on disk, oldest first; the last one is written to.
    segments: VecDeque<u64>,
    write: File,
    write_len: u64,
    /// First unacknowledged frame (persisted in `cursor`).
    cursor: (u64, u64),
    /// Where the next `peek` reads: after the frames handed out, not yet acked.
    peek_pos: (u64, u64),
    /// End position and size of each frame handed out and not yet acked.
    in_flight: VecDeque<((u64, u64), u64)>,
    /// How many times the handed-out frames were taken back (see [`Spool::rewinds`]).
    rewinds: u64,
    events: u64,
    bytes: u64,
    reader: Option<(u64, File)>,
    cursor_file: File,
    /// Frames of the batch being appended, not yet written, and their count.
    pending: Vec<u8>,
    pending_events: u64,
    /// `peek`'s read buffer, kept so each batch does not allocate (and fault in) a new one.
    chunk: Vec<u8>,
    /// Copies of the latest writes (whole frames), oldest first, at most
    /// [`RECENT_MAX`] bytes: `peek` reads there instead of the file.
    recent: VecDeque<Written>,
    recent_bytes: usize,
    /// A buffer given back by a forgotten write, for the next batch.
    spare: Vec<u8>,
}

/// One write of frames, as it went to a segment.
#[derive(Debug)]
struct Written {
    segment: u64,
    offset: u64,
    frames: Vec<u8>,
}

/// `<segment> <offset>\n`, fixed width so an in-place rewrite replaces it whole.
const CURSOR_LEN: usize = 42;

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.spool"))
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl Spool {
    /// Open (or create) the spool in `dir`, recovering what a previous run left.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<Spool> {
        fs::create_dir_all(dir)?;
        let mut ids: Vec<u64> = fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(".spool")?.parse().ok()
            })
            .collect();
        ids.sort_unstable();
        let saved = fs::read_to_string(dir.join("cursor")).ok().and_then(|s| {
            let mut it = s.split_whitespace().map(|w| w.parse::<u64>());
            Some((it.next()?.ok()?, it.next()?.ok()?))
        });
        let mut cursor = match (saved, ids.first()) {
            (Some(c), _) if ids.contains(&c.0) => c,
            (_, Some(&first)) => (first, 0),
            (_, None) => (1, 0),
        };
        for &id in ids.iter().filter(|&&id| id < cursor.0) {
            fs::remove_file(segment_path(dir, id))?;
        }
        ids.retain(|&id| id >= cursor.0);
        if ids.is_empty() {
            ids.push(cursor.0);
            cursor.1 = 0;
        }
        // Count what waits and cut each segment at its first damaged frame.
        let (mut events, mut bytes) = (0u64, 0u64);
        for &id in &ids {
            let path = segment_path(dir, id);
            let mut f = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            let len = f.metadata()?.len();
            let mut pos = if id == cursor.0 { cursor.1.min(len) } else { 0 };
            if id == cursor.0 {
                cursor.1 = pos;
            }
            while let Some(payload_len) = read_frame(&mut f, pos, len)? {
                pos += FRAME_HEADER + payload_len;
                events += 1;
                bytes += FRAME_HEADER + payload_len;
            }
            if pos < len {
                f.set_len(pos)?;
            }
        }
        let last = ids.last().copied().unwrap_or(1);
        let mut write = OpenOptions::new()
            .append(true)
            .create(true)
            .open(segment_path(dir, last))?;
        let write_len = write.seek(SeekFrom::End(0))?;
        let cursor_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("cursor"))?;
        // An older, shorter cursor must not leave a tail behind the fixed-width one.
        cursor_file.set_len(CURSOR_LEN as u64)?;
        let spool = Spool {
            dir: dir.to_owned(),
            max_bytes: max_bytes.max(FRAME_HEADER + 1),
            segment_bytes: (max_bytes / 8).clamp(64 << 10, SEGMENT_MAX),
            segments: ids.into(),
            write,
            write_len,
            cursor,
            peek_pos: cursor,
            in_flight: VecDeque::new(),
            rewinds: 0,
            events,
            bytes,
            reader: None,
            cursor_file,
            pending: Vec::new(),
            pending_events: 0,
            chunk: Vec::new(),
            recent: VecDeque::new(),
            recent_bytes: 0,
            spare: Vec::new(),
        };
        spool.save_cursor()?;
        Ok(spool)
    }

    /// Events waiting (handed out but unacknowledged ones included).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Counts every [`rewind`](Self::rewind), including the ones a full
    /// spool's `DropOldest` does on its own: a deliverer that handed out
    /// several batches acks them only while this is unchanged.
    pub fn rewinds(&self) -> u64 {
        self.rewinds
    }

    /// Bytes those events take on disk.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Append one payload; when full, `DropOldest` discards from the front
    /// (including frames handed out by `peek`, which are then rewound).
    pub fn append(&mut self, payload: &[u8], action: FullAction) -> io::Result<Appended> {
        let r = self.append_batch(&[payload], action);
        match r.error {
            Some(e) => Err(e),
            None if r.stored == 1 => Ok(Appended::Stored {
                dropped_oldest: r.dropped_oldest,
            }),
            None => Ok(Appended::Full),
        }
    }

    /// Append payloads in order with one `write` per segment they span (two
    /// when a full spool must first give room). Each payload gets the same
    /// treatment [`append`](Self::append) gives it alone.
    pub fn append_batch(&mut self, payloads: &[&[u8]], action: FullAction) -> BatchAppended {
        let mut out = BatchAppended::default();
        self.pending.clear();
        self.pending_events = 0;
        let mut refusing = false;
        for (i, payload) in payloads.iter().enumerate() {
            let need = FRAME_HEADER + payload.len() as u64;
            let pending = self.pending.len() as u64;
            let too_big = need > self.max_bytes || payload.len() > u32::MAX as usize;
            if refusing || too_big {
                out.full += 1;
                refusing |= action == FullAction::Suspend;
                continue;
            }
            let step = (|| -> io::Result<bool> {
                if self.bytes + pending + need > self.max_bytes {
                    if action != FullAction::DropOldest {
                        return Ok(false);
                    }
                    self.write_pending()?;
                    self.rewind();
                    while self.bytes + need > self.max_bytes && self.events > 0 {
                        self.peek(1, u64::MAX)?;
                        self.ack(1)?;
                        out.dropped_oldest += 1;
                    }
                }
                let pending = self.pending.len() as u64;
                if self.write_len + pending > 0
                    && self.write_len + pending + need > self.segment_bytes
                {
                    self.write_pending()?;
                    let id = self.segments.back().copied().unwrap_or(0) + 1;
                    self.write = OpenOptions::new()
                        .append(true)
                        .create(true)
                        .open(segment_path(&self.dir, id))?;
                    self.segments.push_back(id);
                    self.write_len = 0;
                }
                Ok(true)
            })();
            match step {
                Ok(true) => {
                    self.pending
                        .extend_from_slice(&(payload.len() as u32).to_le_bytes());
                    self.pending
                        .extend_from_slice(&checksum(payload).to_le_bytes());
                    self.pending.extend_from_slice(payload);
                    self.pending_events += 1;
                }
                Ok(false) => {
                    out.full += 1;
                    refusing |= action == FullAction::Suspend;
                }
                Err(e) => {
                    out.failed += self.pending_events + (payloads.len() - i) as u64;
                    out.error = Some(e);
                    self.pending.clear();
                    self.pending_events = 0;
                    out.stored = payloads.len() as u64 - out.full - out.failed;
                    return out;
                }
            }
        }
        let waiting = self.pending_events;
        if let Err(e) = self.write_pending() {
            out.failed += waiting;
            out.error = Some(e);
        }
        out.stored = payloads.len() as u64 - out.full - out.failed;
        out
    }

    /// Write the frames gathered by `append_batch`. On a failed write the
    /// segment is cut back, so no torn frame sits before later appends.
    fn write_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let n = self.pending.len() as u64;
        if let Err(e) = self.write.write_all(&self.pending) {
            self.pending.clear();
            // `pending_events` is left for the caller to count as lost.
            let _ = self.write.set_len(self.write_len);
            return Err(e);
        }
        self.remember(n);
        let count = std::mem::take(&mut self.pending_events);
        self.write_len += n;
        self.events += count;
        self.bytes += n;
        Ok(())
    }

    /// Hand out up to `max_events` payloads (and about `max_bytes`) after the
    /// ones already handed out, oldest first.
    pub fn peek(&mut self, max_events: usize, max_bytes: u64) -> io::Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        self.peek_each(max_events, max_bytes, |p| out.push(p.to_vec()))?;
        Ok(out)
    }

    /// [`peek`](Self::peek) without copies: `f` sees each payload in the read
    /// buffer. Returns how many were handed out.
    pub fn peek_each(
        &mut self,
        max_events: usize,
        max_bytes: u64,
        mut f: impl FnMut(&[u8]),
    ) -> io::Result<usize> {
        let mut count = 0usize;
        let mut total = 0u64;
        while count < max_events && total < max_bytes {
            let (id, off) = self.peek_pos;
            let len = if Some(&id) == self.segments.back() {
                self.write_len
            } else {
                self.segment_reader(id)?.metadata()?.len()
            };
            if off >= len {
                match self.segments.iter().find(|&&s| s > id) {
                    Some(&next) => {
                        self.peek_pos = (next, 0);
                        continue;
                    }
                    None => break,
                }
            }
            if let Some(k) = self.recent_at(id, off) {
                // Frames this spool wrote itself, still in memory: no read,
                // and no checksum to verify.
                let w = &mut self.recent[k];
                let frames = std::mem::take(&mut w.frames);
                let from = (off - w.offset) as usize;
                let walked = self.walk(
                    (id, off),
                    &frames[from..],
                    false,
                    (max_events - count, max_bytes - total),
                    &mut f,
                );
                self.recent[k].frames = frames;
                let (n, bytes) = walked?;
                count += n;
                total += bytes;
                if n == 0 {
                    break;
                }
                continue;
            }
            // One read for many frames: a syscall per frame costs more than
            // the copy (each is filtered by the kernel's audit rules too).
            let chunk_len = (len - off).min((max_bytes - total).max(READ_CHUNK)) as usize;
            let mut chunk = std::mem::take(&mut self.chunk);
            chunk.resize(chunk_len, 0);
            let walked = self.read_walk(
                (id, off),
                len,
                &mut chunk,
                (max_events - count, max_bytes - total),
                &mut f,
            );
            self.chunk = chunk;
            let (n, bytes) = walked?;
            count += n;
            total += bytes;
        }
        Ok(count)
    }

    /// Read `chunk.len()` bytes of segment `at.0` (`len` long) from `at.1`
    /// and hand out the whole frames in them; a first frame larger than
    /// that is read alone. Nothing to hand out there is a truncated frame.
    fn read_walk(
        &mut self,
        at: (u64, u64),
        len: u64,
        chunk: &mut Vec<u8>,
        limits: (usize, u64),
        f: &mut impl FnMut(&[u8]),
    ) -> io::Result<(usize, u64)> {
        let (id, off) = at;
        self.segment_reader(id)?.read_exact_at(chunk, off)?;
        let mut walked = self.walk(at, chunk, true, limits, f)?;
        let size = chunk
            .get(..4)
            .map(|h| FRAME_HEADER + u64::from(u32::from_le_bytes([h[0], h[1], h[2], h[3]])));
        if let Some(size) =
            size.filter(|&n| walked.0 == 0 && n > chunk.len() as u64 && off + n <= len)
        {
            chunk.resize(size as usize, 0);
            self.segment_reader(id)?.read_exact_at(chunk, off)?;
            walked = self.walk(at, chunk, true, limits, f)?;
        }
        if walked.0 == 0 {
            return Err(bad(format!(
                "spool {}: truncated frame at segment {id} offset {off}",
                self.dir.display()
            )));
        }
        Ok(walked)
    }

    /// Hand out the whole frames at the start of `data` (which starts at
    /// `at` in the spool), up to `limits` (payloads, bytes), checking their
    /// checksums when `verify`; how many and their size on disk.
    fn walk(
        &mut self,
        at: (u64, u64),
        data: &[u8],
        verify: bool,
        limits: (usize, u64),
        f: &mut impl FnMut(&[u8]),
    ) -> io::Result<(usize, u64)> {
        let (id, off) = at;
        let (mut count, mut total, mut pos) = (0usize, 0u64, 0usize);
        while count < limits.0 && total < limits.1 {
            let Some(header) = data.get(pos..pos + FRAME_HEADER as usize) else {
                break;
            };
            let n = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let sum = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            let start = pos + FRAME_HEADER as usize;
            let Some(payload) = data.get(start..start + n) else {
                break;
            };
            let at = off + pos as u64;
            if verify && !checksum_ok(payload, sum) {
                return Err(bad(format!(
                    "spool {}: bad checksum at segment {id} offset {at}",
                    self.dir.display()
                )));
            }
            f(payload);
            let size = FRAME_HEADER + n as u64;
            self.peek_pos = (id, at + size);
            self.in_flight.push_back((self.peek_pos, size));
            total += size;
            pos = start + n;
            count += 1;
        }
        Ok((count, total))
    }

    /// Keep the `n` bytes of frames just written at the end of the write
    /// segment (the pending buffer itself, replaced by a spare one).
    fn remember(&mut self, n: u64) {
        let spare = std::mem::take(&mut self.spare);
        let frames = std::mem::replace(&mut self.pending, spare);
        self.pending.clear();
        self.recent_bytes += frames.len();
        self.recent.push_back(Written {
            segment: self.segments.back().copied().unwrap_or(0),
            offset: self.write_len,
            frames,
        });
        debug_assert_eq!(self.recent.back().map(|w| w.frames.len() as u64), Some(n));
        while self.recent_bytes > RECENT_MAX {
            self.drop_oldest_recent();
        }
    }

    /// The index of the remembered write holding position `(segment, offset)`.
    fn recent_at(&self, segment: u64, offset: u64) -> Option<usize> {
        self.recent.iter().position(|w| {
            w.segment == segment && (w.offset..w.offset + w.frames.len() as u64).contains(&offset)
        })
    }

    /// Drop the remembered writes wholly before the cursor (acknowledged).
    fn forget_recent(&mut self) {
        while self
            .recent
            .front()
            .is_some_and(|w| (w.segment, w.offset + w.frames.len() as u64) <= self.cursor)
        {
            self.drop_oldest_recent();
        }
    }

    /// Forget every remembered write (tests: read the files).
    #[cfg(test)]
    pub(super) fn forget_written(&mut self) {
        while !self.recent.is_empty() {
            self.drop_oldest_recent();
        }
    }

    fn drop_oldest_recent(&mut self) {
        if let Some(w) = self.recent.pop_front() {
            self.recent_bytes -= w.frames.len();
            // Kept to hold the next batch: big enough already.
            if w.frames.capacity() > self.spare.capacity() {
                self.spare = w.frames;
            }
        }
    }

    /// The first `n` handed-out payloads were delivered: forget them.
    pub fn ack(&mut self, n: usize) -> io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        for _ in 0..n.min(self.in_flight.len()) {
            if let Some((end, size)) = self.in_flight.pop_front() {
                self.cursor = end;
                self.events -= 1;
                self.bytes -= size;
            }
        }
        self.release()
    }

    /// Remove the segments wholly before the cursor (the write segment
    /// stays) and persist the cursor.
    fn release(&mut self) -> io::Result<()> {
        self.forget_recent();
        while self.segments.len() > 1 && self.segments[0] < self.cursor.0 {
            let id = self.segments.pop_front().unwrap_or_default();
            if self.reader.as_ref().is_some_and(|r| r.0 == id) {
                self.reader = None;
            }
            fs::remove_file(segment_path(&self.dir, id))?;
        }
        self.save_cursor()
    }

    /// Give up everything from the cursor to the end of its segment: a frame
    /// there failed its checksum, so what follows it cannot be framed.
    /// Returns how many waiting events that lost.
    pub fn skip_damaged(&mut self) -> io::Result<u64> {
        self.rewind();
        let id = self.cursor.0;
        self.cursor = match self.segments.iter().find(|&&s| s > id) {
            Some(&next) => (next, 0),
            None => (id, self.write_len),
        };
        self.peek_pos = self.cursor;
        let (mut events, mut bytes) = (0u64, 0u64);
        for &seg in self.segments.iter().filter(|&&s| s >= self.cursor.0) {
            let mut f = File::open(segment_path(&self.dir, seg))?;
            let len = f.metadata()?.len();
            let mut pos = if seg == self.cursor.0 {
                self.cursor.1
            } else {
                0
            };
            while let Some(n) = read_frame(&mut f, pos, len)? {
                pos += FRAME_HEADER + n;
                events += 1;
                bytes += FRAME_HEADER + n;
            }
        }
        let lost = self.events.saturating_sub(events);
        self.events = events;
        self.bytes = bytes;
        self.release()?;
        Ok(lost)
    }

    /// Undo every `peek` not acked: they will be handed out again.
    pub fn rewind(&mut self) {
        self.rewinds += 1;
        self.in_flight.clear();
        self.peek_pos = self.cursor;
    }

    fn segment_reader(&mut self, id: u64) -> io::Result<&File> {
        if self.reader.as_ref().is_none_or(|r| r.0 != id) {
            self.reader = Some((id, File::open(segment_path(&self.dir, id))?));
        }
        match &self.reader {
            Some((_, f)) => Ok(f),
            None => Err(bad("spool reader".into())),
        }
    }

    fn save_cursor(&self) -> io::Result<()> {
        let line = format!("{:020} {:020}\n", self.cursor.0, self.cursor.1);
        debug_assert_eq!(line.len(), CURSOR_LEN);
        self.cursor_file.write_all_at(line.as_bytes(), 0)
    }
}

/// The payload length of a whole, intact frame at `pos`, or `None` (end of
/// data, a torn frame or a bad checksum).
fn read_frame(f: &mut File, pos: u64, len: u64) -> io::Result<Option<u64>> {
    if pos + FRAME_HEADER > len {
        return Ok(None);
    }
    let mut header = [0u8; FRAME_HEADER as usize];
    f.read_exact_at(&mut header, pos)?;
    let n = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as u64;
    let sum = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if pos + FRAME_HEADER + n > len {
        return Ok(None);
    }
    let mut payload = vec![0u8; n as usize];
    f.seek(SeekFrom::Start(pos + FRAME_HEADER))?;
    f.read_exact(&mut payload)?;
    Ok(checksum_ok(&payload, sum).then_some(n))
}
