//! ausearch's `--checkpoint` decision: given the last event a previous run
//! looked at, which matching events of this run are new (audit-userspace
//! 3.0.9 `src/ausearch.c` `chkpt_output_decision`, written from its
//! description). The checkpoint file itself is read and written by the CLI.

use super::group::{Group, Stamp};

/// ausearch's `MAX_EVENT_DELTA_SECS`: an event this much newer than the
/// checkpointed one proves the checkpointed one should have been seen.
const MAX_EVENT_DELTA_SECS: u64 = 2;

/// The last event of the previous run (`output=` line of the checkpoint).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resume {
    pub node: Option<Vec<u8>>,
    pub stamp: Stamp,
    /// Type of the event's first record.
    pub first_type: u32,
    /// `-ts checkpoint`: only the time stamp counts.
    pub time_only: bool,
}

/// What to do with a matching event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Output,
    /// Not yet (before the checkpointed event, or the event itself).
    Skip,
    /// An event well past the checkpointed one came first: the checkpoint
    /// does not belong to this log (ausearch stops with status 10).
    Corrupted,
}

/// The decision, made for good once output starts.
#[derive(Debug, Clone)]
pub struct Resumer {
    resume: Option<Resume>,
    started: bool,
}

impl Resumer {
    pub fn new(resume: Option<Resume>) -> Resumer {
        // No previous output recorded: everything is new.
        let started = resume.as_ref().is_none_or(|r| r.stamp.sec == 0);
        Resumer { resume, started }
    }

    /// Decide for a matching event.
    pub fn decide(&mut self, g: &Group) -> Decision {
        if self.started {
            return Decision::Output;
        }
        let Some(r) = &self.resume else {
            return Decision::Output;
        };
        let e = &g.stamp;
        if r.time_only
            && (r.stamp.sec < e.sec || (r.stamp.sec == e.sec && r.stamp.milli <= e.milli))
        {
            self.started = true;
            return Decision::Output;
        }
        if r.stamp == *e
            && r.first_type == u32::from(g.first_type)
            && r.node.as_deref() == g.node.as_deref()
        {
            self.started = true;
            return Decision::Skip;
        }
        if r.stamp.sec < e.sec && e.sec - r.stamp.sec > MAX_EVENT_DELTA_SECS {
            return Decision::Corrupted;
        }
        Decision::Skip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(sec: u64, serial: u64) -> Group {
        Group {
            stamp: Stamp {
                sec,
                milli: 0,
                serial,
            },
            first_type: 1300,
            ..Group::default()
        }
    }

    #[test]
    fn output_starts_after_the_checkpointed_event() {
        let mut r = Resumer::new(Some(Resume {
            stamp: ev(10, 2).stamp,
            first_type: 1300,
            ..Resume::default()
        }));
        assert_eq!(r.decide(&ev(9, 1)), Decision::Skip);
        assert_eq!(r.decide(&ev(10, 2)), Decision::Skip);
        assert_eq!(r.decide(&ev(10, 3)), Decision::Output);
        let mut bad = Resumer::new(Some(Resume {
            stamp: ev(10, 2).stamp,
            ..Resume::default()
        }));
        assert_eq!(bad.decide(&ev(20, 9)), Decision::Corrupted);
        assert_eq!(Resumer::new(None).decide(&ev(1, 1)), Decision::Output);
    }
}
