//! The enrichment of one event as JSON members placed where laurel puts them
//! (SYSCALL.PID, PPID, SPAWNED_BY, SCRIPT, LABELS, EXE_HASH, UID_GROUPS,
//! ANCESTORS; EXECVE.ARGV, ARGV_STR, ENV; `PID`-like keys in other records),
//! written into the records writer through its `Extra` hook.

use std::borrow::Cow;

use crate::audit::records::json::{Extra, Sink, Translation};
use crate::audit::records::Record;

/// A small JSON value tree (the enrichment is built before the event is
/// written, as tracking has to run first).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Vec<u8>),
    Int(i64),
    UInt(u64),
    Bool(bool),
    Null,
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.as_bytes().to_vec())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s.into_bytes())
    }
}

impl From<&[u8]> for Value {
    fn from(s: &[u8]) -> Value {
        Value::Str(s.to_vec())
    }
}

impl Value {
    pub fn emit<S: Sink>(&self, sink: &mut S) {
        match self {
            Value::Str(s) => sink.string(s),
            Value::Int(i) => sink.int(*i),
            Value::UInt(u) => sink.uint(*u),
            Value::Bool(b) => sink.boolean(*b),
            Value::Null => sink.null(),
            Value::List(l) => {
                sink.begin_list();
                for v in l {
                    v.emit(sink);
                }
                sink.end_list();
            }
            Value::Map(m) => {
                sink.begin_map();
                for (k, v) in m {
                    sink.key(k.as_bytes());
                    v.emit(sink);
                }
                sink.end_map();
            }
        }
    }
}

/// A [`Sink`] that builds [`Value`]s: the members of one record, written by
/// the same code as the JSON, as a list of (key, value).
#[derive(Debug, Default)]
pub(crate) struct ValueSink {
    /// Open containers; the first is the record's member list.
    stack: Vec<(Option<String>, Value)>,
}

impl ValueSink {
    pub(crate) fn new() -> ValueSink {
        ValueSink {
            stack: vec![(None, Value::Map(Vec::new()))],
        }
    }

    pub(crate) fn into_members(mut self) -> Vec<(String, Value)> {
        match self.stack.pop() {
            Some((_, Value::Map(m))) if self.stack.is_empty() => m,
            _ => Vec::new(),
        }
    }

    fn value(&mut self, v: Value) {
        if let Some((key, top)) = self.stack.last_mut() {
            match top {
                Value::Map(m) => m.push((key.take().unwrap_or_default(), v)),
                Value::List(l) => l.push(v),
                _ => {}
            }
        }
    }

    fn close(&mut self) {
        if self.stack.len() > 1 {
            if let Some((_, v)) = self.stack.pop() {
                self.value(v);
            }
        }
    }
}

impl Sink for ValueSink {
    fn begin_map(&mut self) {
        self.stack.push((None, Value::Map(Vec::new())));
    }
    fn end_map(&mut self) {
        self.close();
    }
    fn begin_list(&mut self) {
        self.stack.push((None, Value::List(Vec::new())));
    }
    fn end_list(&mut self) {
        self.close();
    }
    fn key(&mut self, k: &[u8]) {
        if let Some((key, _)) = self.stack.last_mut() {
            *key = Some(String::from_utf8_lossy(k).into_owned());
        }
    }
    fn string(&mut self, s: &[u8]) {
        self.value(Value::Str(s.to_vec()));
    }
    fn int(&mut self, v: i64) {
        self.value(Value::Int(v));
    }
    fn uint(&mut self, v: u64) {
        self.value(Value::UInt(v));
    }
    fn boolean(&mut self, b: bool) {
        self.value(Value::Bool(b));
    }
    fn null(&mut self) {
        self.value(Value::Null);
    }
}

/// What to filter an event for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verdict {
    #[default]
    Keep,
    /// Filtered, `filter-action = "drop"`.
    Drop,
    /// Filtered, `filter-action = "log"`: for the second (filter) log.
    Divert,
}

/// The members added to one event's records.
#[derive(Debug, Clone)]
pub struct Enrichment {
    pub verdict: Verdict,
    /// (index of the record in the event, members), in record order.
    pub members: Vec<(usize, Vec<(String, Value)>)>,
    /// EXECVE's own `argv` list is replaced by `ARGV` / `ARGV_STR`.
    pub replaces_argv: bool,
    /// The interpretations the records' objects carry (`[translate]`).
    pub translation: Translation,
}

impl Default for Enrichment {
    fn default() -> Enrichment {
        Enrichment {
            verdict: Verdict::Keep,
            members: Vec::new(),
            replaces_argv: false,
            translation: Translation::ALL,
        }
    }
}

impl Enrichment {
    pub fn add(&mut self, index: usize, key: impl Into<String>, value: Value) {
        match self.members.iter_mut().find(|(i, _)| *i == index) {
            Some((_, m)) => m.push((key.into(), value)),
            None => self.members.push((index, vec![(key.into(), value)])),
        }
    }

    /// The members for one record.
    pub fn of(&self, index: usize) -> &[(String, Value)] {
        self.members
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, m)| m.as_slice())
            .unwrap_or_default()
    }
}

impl Extra for Enrichment {
    fn members<S: Sink>(&self, index: usize, _rec: &Record, sink: &mut S) {
        for (k, v) in self.of(index) {
            sink.key(k.as_bytes());
            v.emit(sink);
        }
    }
    fn execve_argv(&self) -> bool {
        !self.replaces_argv
    }
    fn translation(&self) -> Translation {
        self.translation
    }
}

/// laurel's `execve-argv-limit-bytes`: cut whole arguments out of the middle
/// until the list (each argument counted with one separator byte) fits, and
/// put one `<<< Skipped: args=N, bytes=M >>>` marker where they were.
pub fn limit_argv(args: &[Vec<u8>], limit: usize) -> Cow<'_, [Vec<u8>]> {
    let size: usize = args.iter().map(|a| a.len() + 1).sum();
    if size <= limit {
        return Cow::Borrowed(args);
    }
    let diff = size - limit;
    let skip = (size - diff) / 2..(size + diff) / 2;
    let mut out = Vec::new();
    let mut start = 0;
    let mut skipped: Option<(usize, usize)> = None;
    for a in args {
        let end = start + a.len();
        if skip.contains(&start) || skip.contains(&end) {
            skipped = Some(match skipped {
                None => (1, end - start),
                Some((n, b)) => (n + 1, b + 1 + end - start),
            });
        } else {
            if let Some((n, b)) = skipped.take() {
                out.push(format!("<<< Skipped: args={n}, bytes={b} >>>").into_bytes());
            }
            out.push(a.clone());
        }
        start = end + 1;
    }
    if let Some((n, b)) = skipped {
        out.push(format!("<<< Skipped: args={n}, bytes={b} >>>").into_bytes());
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<Vec<u8>> {
        a.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn argv_limit_cuts_the_middle() {
        let args = v(&[
            "cmd",
            "aaaaaaaaaa",
            "bbbbbbbbbb",
            "cccccccccc",
            "dddddddddd",
            "end",
        ]);
        assert_eq!(limit_argv(&args, 100), args);
        let cut = limit_argv(&args, 30);
        assert_eq!(cut.first().unwrap(), b"cmd");
        assert_eq!(cut.last().unwrap(), b"end");
        let text: Vec<String> = cut
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert!(
            text.iter().any(|t| t.starts_with("<<< Skipped: args=")),
            "{text:?}"
        );
        assert!(cut.len() < args.len());
    }
}
