//! Running a search over log input: lines are split from the bytes, grouped
//! as ausearch groups them, filtered, and either handed out one event at a
//! time or written in an output format.
//!
//! Input is a list of files read in order (a rotated directory is listed
//! oldest first by [`rotated_logs`]) or any reader (stdin). Memory is bounded
//! by the events pending in the grouping window plus one read buffer.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::filter::Filter;
use super::group::{Group, Grouper, Stamp, EOE_TIMEOUT};
use super::items::Needs;
use super::output::{write_event, Format};
use super::resume::{Decision, Resume, Resumer};

/// Size of one read.
const CHUNK: usize = 1 << 20;
/// Longest line kept whole (longer ones are cut: bounded memory on garbage).
const MAX_LINE: usize = 1 << 20;

/// Splits chunks of bytes into lines.
#[derive(Debug, Default)]
pub struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// Call `f` with every complete line of `chunk` (without its `\n`).
    pub fn feed(&mut self, chunk: &[u8], mut f: impl FnMut(&[u8])) {
        let mut rest = chunk;
        if !self.partial.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(p) => {
                    let mut line = std::mem::take(&mut self.partial);
                    line.extend_from_slice(&rest[..p]);
                    f(&line);
                    rest = &rest[p + 1..];
                }
                None => {
                    let room = MAX_LINE.saturating_sub(self.partial.len());
                    self.partial
                        .extend_from_slice(&rest[..rest.len().min(room)]);
                    return;
                }
            }
        }
        let mut start = 0;
        for p in memchr::memchr_iter(b'\n', rest) {
            f(&rest[start..p]);
            start = p + 1;
        }
        let tail = &rest[start..];
        self.partial
            .extend_from_slice(&tail[..tail.len().min(MAX_LINE)]);
    }

    /// End of input: the last unterminated line.
    pub fn finish(&mut self, mut f: impl FnMut(&[u8])) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            f(&line);
        }
    }
}

/// A search in progress: feed lines, take matching events.
#[derive(Debug)]
pub struct Search {
    grouper: Grouper,
    filter: Filter,
    needs: Needs,
    lines: Lines,
    /// Events looked at so far.
    pub seen: u64,
}

impl Search {
    pub fn new(filter: Filter) -> Search {
        Search::with_timeout(filter, EOE_TIMEOUT)
    }

    /// A search whose events end `eoe_timeout` seconds after they start
    /// when their end record does not come (`--eoe-timeout`).
    pub fn with_timeout(filter: Filter, eoe_timeout: u64) -> Search {
        let mut grouper = Grouper::new(eoe_timeout);
        grouper.start = filter.start;
        grouper.end = filter.end;
        Search {
            needs: filter.needs(),
            grouper,
            filter,
            lines: Lines::default(),
            seen: 0,
        }
    }

    /// Feed a chunk of log bytes.
    pub fn feed(&mut self, chunk: &[u8]) {
        let g = &mut self.grouper;
        self.lines.feed(chunk, |l| g.push(l));
    }

    /// End of input: every pending event becomes available.
    pub fn finish(&mut self) {
        self.finish_lines();
        self.grouper.finish();
    }

    /// End of input, but events still waiting for records stay pending
    /// (ausearch with `--checkpoint` does not print them: the next run
    /// will, once they are complete).
    pub fn finish_lines(&mut self) {
        let g = &mut self.grouper;
        self.lines.finish(|l| g.push(l));
    }

    /// The next matching event of what was fed so far.
    pub fn next_match(&mut self) -> Option<Group> {
        while let Some(g) = self.grouper.pop() {
            self.seen += 1;
            if self.filter.matches(&g, &self.needs) {
                return Some(g);
            }
        }
        None
    }

    /// The next event with whether it matches (a checkpoint remembers the
    /// last event looked at, matching or not).
    pub fn next_checked(&mut self) -> Option<(Group, bool)> {
        let g = self.grouper.pop()?;
        self.seen += 1;
        let m = self.filter.matches(&g, &self.needs);
        Some((g, m))
    }

    /// The next event, matching or not (reports aggregate every event).
    pub fn next_event(&mut self) -> Option<Group> {
        self.grouper.pop()
    }

    /// Events pending in the grouping window.
    pub fn pending(&self) -> usize {
        self.grouper.pending()
    }
}

/// A directory's `audit.log`, `audit.log.1`, ... oldest first, as ausearch
/// reads them (numbering stops at the first missing file).
pub fn rotated_logs(dir: &Path) -> Vec<PathBuf> {
    let base = dir.join("audit.log");
    let mut files = Vec::new();
    if !base.exists() {
        return files;
    }
    files.push(base.clone());
    for n in 1.. {
        let p = PathBuf::from(format!("{}.{n}", base.display()));
        if !p.exists() {
            break;
        }
        files.push(p);
    }
    files.reverse();
    files
}

/// Feed every input to `search`, calling `each` whenever events may be
/// ready; `each` returns false to stop reading. With `hold`, events still
/// incomplete at the end stay pending.
pub fn feed_inputs(
    inputs: &mut [Box<dyn Read + Send>],
    search: &mut Search,
    hold: bool,
    mut each: impl FnMut(&mut Search) -> io::Result<bool>,
) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    for input in inputs.iter_mut() {
        let go_on = read_chunks(input, &mut buf, |chunk| {
            search.feed(chunk);
            each(search)
        })?;
        if !go_on {
            return Ok(());
        }
    }
    if hold {
        search.finish_lines();
    } else {
        search.finish();
    }
    each(search).map(drop)
}

/// Call `f` with each chunk read from `input` until its end (true) or
/// until `f` says stop (false).
fn read_chunks(
    input: &mut dyn Read,
    buf: &mut [u8],
    mut f: impl FnMut(&[u8]) -> io::Result<bool>,
) -> io::Result<bool> {
    loop {
        match input.read(buf) {
            Ok(0) => return Ok(true),
            Ok(n) => {
                if !f(&buf[..n])? {
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Open files for [`feed_inputs`].
pub fn open_all(paths: &[PathBuf]) -> io::Result<Vec<Box<dyn Read + Send>>> {
    paths
        .iter()
        .map(|p| {
            File::open(p)
                .map(|f| Box::new(f) as Box<dyn Read + Send>)
                .map_err(|e| {
                    io::Error::new(e.kind(), format!("Error opening {} ({e})", p.display()))
                })
        })
        .collect()
}

/// How a search runs besides its filter (ausearch's `--just-one`,
/// `--line-buffered`, `--eoe-timeout`, `--checkpoint`).
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub just_one: bool,
    pub line_buffered: bool,
    pub eoe_timeout: u64,
    /// `--checkpoint` given: incomplete events at the end are not written.
    pub checkpoint: bool,
    pub resume: Option<Resume>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            just_one: false,
            line_buffered: false,
            eoe_timeout: EOE_TIMEOUT,
            checkpoint: false,
            resume: None,
        }
    }
}

/// An event's node, stamp and first record type (what a checkpoint keeps).
pub type EventId = (Option<Box<[u8]>>, Stamp, u16);

/// What a search did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Events written.
    pub found: u64,
    /// The last event looked at (node, stamp, first record type): what a
    /// checkpoint records.
    pub last: Option<EventId>,
    /// The checkpointed event was not found before a much newer one.
    pub corrupted: Option<Stamp>,
}

/// Search `inputs` and write the matches in `format` to `w`.
pub fn search_to_writer(
    inputs: &mut [Box<dyn Read + Send>],
    filter: Filter,
    format: Format,
    opts: RunOptions,
    w: &mut dyn Write,
) -> io::Result<Outcome> {
    let mut search = Search::with_timeout(filter, opts.eoe_timeout);
    let mut resumer = Resumer::new(opts.resume);
    let mut out = Vec::with_capacity(CHUNK);
    let mut outcome = Outcome::default();
    feed_inputs(inputs, &mut search, opts.checkpoint, |s| {
        while let Some((g, matched)) = s.next_checked() {
            if matched {
                match resumer.decide(&g) {
                    Decision::Output => {
                        write_event(&g, &format, outcome.found == 0, &mut out);
                        outcome.found += 1;
                    }
                    Decision::Skip => {}
                    Decision::Corrupted => {
                        outcome.corrupted = Some(g.stamp.clone());
                        return Ok(false);
                    }
                }
                // ausearch stops at the first match, before remembering it.
                if opts.just_one && outcome.found > 0 {
                    return Ok(false);
                }
                if opts.line_buffered || out.len() >= CHUNK {
                    w.write_all(&out)?;
                    out.clear();
                    if opts.line_buffered {
                        w.flush()?;
                    }
                }
            }
            outcome.last = Some((g.node, g.stamp, g.first_type));
        }
        Ok(true)
    })?;
    w.write_all(&out)?;
    w.flush()?;
    Ok(outcome)
}

/// Run an aureport report over `inputs`, named `names` (the log time
/// report prints them).
pub fn report_inputs(
    inputs: &mut [Box<dyn Read + Send>],
    names: &[&[u8]],
    opts: super::report::Options,
) -> io::Result<super::report::Report> {
    use super::group::parse_header;
    use super::report::Report;
    let (start, end) = (opts.start, opts.end);
    let mut report = Report::new(opts);
    let mut grouper = Grouper::new(EOE_TIMEOUT);
    grouper.start = start;
    grouper.end = end;
    let mut lines = Lines::default();
    let mut first_known = false;
    let mut buf = vec![0u8; CHUNK];
    // aureport's "range of time" starts at the first line read, or with -ts
    // at the first line outside the selected range.
    let mut line = |l: &[u8], g: &mut Grouper, r: &mut Report| {
        if !first_known {
            if let Some(h) = parse_header(l) {
                let outside =
                    start.is_some_and(|s| h.stamp.sec < s) || end.is_some_and(|e| h.stamp.sec > e);
                if start.is_none() || outside {
                    r.saw_line(h.stamp.sec, h.stamp.milli);
                    first_known = true;
                }
            }
        }
        g.push(l);
    };
    let count = inputs.len();
    for (i, input) in inputs.iter_mut().enumerate() {
        read_chunks(input, &mut buf, |chunk| {
            lines.feed(chunk, |l| line(l, &mut grouper, &mut report));
            while let Some(g) = grouper.pop() {
                report.add(&g);
            }
            Ok(true)
        })?;
        // A file's last line ends with the file (aureport reads lines with
        // fgets); events still open belong to the next file, except after
        // the last one.
        lines.finish(|l| line(l, &mut grouper, &mut report));
        if i + 1 == count {
            grouper.finish();
            while let Some(g) = grouper.pop() {
                report.add(&g);
            }
        }
        report.file_done(names.get(i).copied().unwrap_or(b"stdin"));
    }
    Ok(report)
}

/// An event received live (netlink payloads) or parsed elsewhere, as the
/// log lines auditd would write for it, so the same filters apply.
pub fn group_from_event(e: &crate::audit::records::Event) -> Group {
    let mut lines = Vec::with_capacity(e.records.len());
    for r in &e.records {
        let text = r.text();
        let line: Box<[u8]> = if text.starts_with(b"type=") || text.starts_with(b"node=") {
            text.into()
        } else {
            let name = crate::audit::tables::libaudit_message_type_name(r.msg_type)
                .map_or_else(|| format!("UNKNOWN[{}]", r.msg_type), str::to_owned);
            let mut l = format!("type={name} msg=").into_bytes();
            l.extend_from_slice(text);
            l.into()
        };
        let raw_len = memchr::memchr(crate::audit::records::parse::ENRICHMENT_SEPARATOR, &line)
            .unwrap_or(line.len()) as u32;
        lines.push(super::group::Line {
            text: line,
            rtype: r.msg_type,
            raw_len,
        });
    }
    Group {
        stamp: super::group::Stamp {
            sec: e.timestamp.sec,
            milli: e.timestamp.msec,
            serial: e.serial,
        },
        node: e.node().map(Into::into),
        first_type: e.records.first().map_or(0, |r| r.msg_type),
        enriched: lines.iter().any(|l| (l.raw_len as usize) < l.text.len()),
        lines,
    }
}

/// The parsed event of a group (for Python objects and JSON).
pub fn event_from_group(g: &Group) -> crate::audit::records::Event {
    use crate::audit::records::{parse_log_line_lenient, Event, Timestamp};
    Event {
        records: g
            .lines
            .iter()
            .map(|l| parse_log_line_lenient(&l.text))
            .collect(),
        timestamp: Timestamp {
            sec: g.stamp.sec,
            msec: g.stamp.milli,
        },
        serial: g.stamp.serial,
        complete: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_across_chunks() {
        let mut l = Lines::default();
        let mut got = Vec::new();
        l.feed(b"ab\ncd", |x| got.push(x.to_vec()));
        l.feed(b"e\nf", |x| got.push(x.to_vec()));
        l.finish(|x| got.push(x.to_vec()));
        assert_eq!(got, vec![b"ab".to_vec(), b"cde".to_vec(), b"f".to_vec()]);
    }

    #[test]
    fn key_search_writes_raw() {
        let log = b"type=SYSCALL msg=audit(10.000:1): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"ls\" exe=\"/bin/ls\" key=\"exec\"\n\
type=PROCTITLE msg=audit(10.000:1): proctitle=6C73\n\
type=SYSCALL msg=audit(11.000:2): arch=c000003e syscall=2 success=no exit=-2 a0=1 a1=2 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"cat\" exe=\"/bin/cat\" key=(null)\n";
        let filter = Filter {
            key: Some(b"exe".to_vec()),
            ..Filter::default()
        };
        let mut inputs: Vec<Box<dyn Read + Send>> = vec![Box::new(&log[..])];
        let mut out = Vec::new();
        let n = search_to_writer(
            &mut inputs,
            filter,
            Format::Raw,
            RunOptions::default(),
            &mut out,
        )
        .unwrap();
        assert_eq!(n.found, 1);
        assert_eq!(n.last.map(|l| l.1.serial), Some(2));
        assert_eq!(out.iter().filter(|&&c| c == b'\n').count(), 2);
    }
}
