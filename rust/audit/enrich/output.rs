//! The enrichment of one event as JSON members placed where laurel puts them
//! (SYSCALL.PID, PPID, SPAWNED_BY, SCRIPT, LABELS, EXE_HASH, UID_GROUPS,
//! ANCESTORS; EXECVE.ARGV, ARGV_STR, ENV; `PID`-like keys in other records),
//! written into the records writer through its `Extra` hook.

use crate::audit::records::json::{Extra, Sink};
use crate::audit::records::Record;

/// A small JSON value tree (the enrichment is built before the event is
/// written, as tracking has to run first).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Vec<u8>),
    Int(i64),
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
#[derive(Debug, Clone, Default)]
pub struct Enrichment {
    pub verdict: Verdict,
    /// (index of the record in the event, members), in record order.
    pub members: Vec<(usize, Vec<(String, Value)>)>,
    /// EXECVE's own `argv` list is replaced by `ARGV` / `ARGV_STR`.
    pub replaces_argv: bool,
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
}

/// laurel's `execve-argv-limit-bytes`: cut whole arguments out of the middle
/// until the list (each argument counted with one separator byte) fits, and
/// put one `<<< Skipped: args=N, bytes=M >>>` marker where they were.
pub fn limit_argv(args: &[Vec<u8>], limit: usize) -> Vec<Vec<u8>> {
    let size: usize = args.iter().map(|a| a.len() + 1).sum();
    if size <= limit {
        return args.to_vec();
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
    out
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
