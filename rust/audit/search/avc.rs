//! The items of AVC and USER_AVC records that aureport's `-a` report prints
//! (result, permissions, class, subject and object labels), read from the
//! raw text with the rules of audit-userspace 3.0.9 `parse_avc` (written
//! from its description: which field is searched from where, which absence
//! makes the record malformed).

use memchr::memmem;

use super::fields::{after, num, string, unescape, word, Malformed};
use super::items::Needs;

/// What an AVC says about the access: aureport prints `unset`, `denied`
/// or `granted`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Verdict {
    #[default]
    Unset,
    Denied,
    Granted,
}

impl Verdict {
    pub fn word(self) -> &'static [u8] {
        match self {
            Verdict::Unset => b"unset",
            Verdict::Denied => b"denied",
            Verdict::Granted => b"granted",
        }
    }
}

/// One AVC record's access decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Avc {
    pub verdict: Verdict,
    /// The permissions between the braces, as written (`read write`).
    pub perm: Option<Vec<u8>>,
    pub scontext: Option<Vec<u8>>,
    pub tcontext: Option<Vec<u8>>,
    pub class: Option<Vec<u8>>,
}

/// The `avc:  denied  { read write }` part: the verdict and permissions,
/// and where the fields after it start (0 when there is no brace: the
/// whole record is searched).
pub fn decision(b: &[u8]) -> Result<(Avc, usize), Malformed> {
    let mut a = Avc::default();
    let Some(p) = memmem::find(b, b"avc: ") else {
        return Ok((a, 0));
    };
    let from = p + 5;
    let Some(brace) = memchr::memchr(b'{', &b[from..]).map(|o| from + o) else {
        return Ok((a, 0));
    };
    a.verdict = if memmem::find(&b[from..brace], b"denied").is_some() {
        Verdict::Denied
    } else {
        Verdict::Granted
    };
    let mut start = brace + 1;
    while b.get(start) == Some(&b' ') {
        start += 1;
    }
    let close = start + memchr::memchr(b'}', &b[start..]).ok_or(Malformed)?;
    let mut end = close;
    while end > 0 && b[end - 1] == b' ' {
        end -= 1;
    }
    // Empty braces with a space ("{ }"): the C parser cuts before its start
    // and so keeps the rest of the record as the permission.
    a.perm = Some(
        if end < start {
            &b[start..]
        } else {
            &b[start..end]
        }
        .to_vec(),
    );
    Ok((a, end))
}

/// A `name=` value up to the next space, searched from `from`; `None`
/// when absent, `Malformed` when no space follows it (`spaced`).
fn spaced_value(b: &[u8], from: usize, name: &[u8]) -> Result<Option<(Vec<u8>, usize)>, Malformed> {
    let Some(p) = memmem::find(&b[from..], name).map(|o| from + o + name.len()) else {
        return Ok(None);
    };
    let end = p + memchr::memchr(b' ', &b[p..]).ok_or(Malformed)?;
    Ok(Some((b[p..end].to_vec(), end)))
}

/// A kernel AVC's process and access fields. `pid` and the labels are read
/// when `n` needs them, `comm` when `want_comm` (a needed comm no earlier
/// record gave: then a missing or unreadable `comm=` makes the record
/// malformed, as for ausearch).
pub struct Kernel {
    pub avc: Avc,
    pub pid: Option<u64>,
    pub comm: Option<Vec<u8>>,
}

pub fn kernel(b: &[u8], n: &Needs, want_comm: bool) -> Result<Kernel, Malformed> {
    let (mut avc, mut at) = decision(b)?;
    let mut pid = None;
    if n.pid {
        if let Some(p) = memmem::find(&b[at..], b"pid=").map(|o| at + o + 4) {
            let end = p + memchr::memchr(b' ', &b[p..]).ok_or(Malformed)?;
            pid = Some(num(&b[p..end]));
            at = end;
        }
    }
    let mut comm = None;
    if want_comm {
        let p = memmem::find(&b[at..], b"comm=").ok_or(Malformed)? + at + 5;
        if b.get(p) == Some(&b'"') {
            comm = string(&b[p..])?;
            at = p + 1 + memchr::memchr(b'"', &b[p + 1..]).unwrap_or(0);
        } else {
            comm = Some(unescape(&b[p..]).ok_or(Malformed)?);
            at = p;
        }
    }
    // The labels are only looked for (and so can only be malformed) when
    // a filter or report needs them.
    if n.subject {
        if let Some((v, end)) = spaced_value(b, at, b"scontext=")? {
            avc.scontext = Some(v);
            at = end;
        }
    }
    if n.object {
        if let Some((v, end)) = spaced_value(b, at, b"tcontext=")? {
            avc.tcontext = Some(v);
            at = end;
        }
    }
    let p = memmem::find(&b[at..], b"tclass=").ok_or(Malformed)? + at + 7;
    avc.class = Some(word(&b[p..]).to_vec());
    Ok(Kernel { avc, pid, comm })
}

/// A USER_AVC's access: the decision, the sender's `subj=` as subject and
/// the message's `tcontext=`/`tclass=` when a space follows them.
pub fn user(b: &[u8]) -> Result<Avc, Malformed> {
    let (mut avc, _) = decision(b)?;
    if let Some(r) = after(b, b"subj") {
        if memchr::memchr(b' ', r).is_none() {
            return Err(Malformed);
        }
        avc.scontext = Some(word(r).to_vec());
    }
    let inner = after(b, b"msg").unwrap_or(b);
    let spaced = |name: &[u8]| {
        after(inner, name)
            .filter(|r| memchr::memchr(b' ', r).is_some())
            .map(|r| word(r).to_vec())
    };
    avc.tcontext = spaced(b"tcontext");
    avc.class = spaced(b"tclass");
    Ok(avc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_avc() {
        let b = b" avc:  denied  { read write } for  pid=13010 comm=\"pickup\" name=\"maildrop\" dev=hda7 ino=1 scontext=system_u:system_r:a_t:s0 tcontext=system_u:object_r:b_t:s0 tclass=dir";
        let all = Needs {
            pid: true,
            subject: true,
            object: true,
            ..Needs::default()
        };
        let k = kernel(b, &all, true).unwrap();
        assert_eq!(k.pid, Some(13010));
        assert_eq!(k.comm.as_deref(), Some(&b"pickup"[..]));
        assert_eq!(k.avc.verdict, Verdict::Denied);
        assert_eq!(k.avc.perm.as_deref(), Some(&b"read write"[..]));
        assert_eq!(k.avc.class.as_deref(), Some(&b"dir"[..]));
        assert_eq!(
            k.avc.tcontext.as_deref(),
            Some(&b"system_u:object_r:b_t:s0"[..])
        );
        // Missing class or unclosed braces: malformed.
        let none = Needs::default();
        assert!(kernel(b" avc:  denied  { read ", &none, false).is_err());
        assert!(kernel(b" avc:  granted  { x } for pid=1 comm=\"a\"", &none, false).is_err());
        assert!(kernel(b" avc:  denied  { x } for pid=1 tclass=f", &none, true).is_err());
        assert!(kernel(b" avc:  denied  { x } for tcontext=a", &all, false).is_err());
        assert_eq!(
            decision(b"avc: x {}").unwrap().0.perm.as_deref(),
            Some(&b""[..])
        );
        assert_eq!(decision(b"no decision").unwrap().0.verdict, Verdict::Unset);
    }

    #[test]
    fn user_avc() {
        let b = b" pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg='avc:  received setenforce notice (enforcing=1) { x } for tcontext=u:r:t:s0 tclass=service exe=\"/x\"'";
        let a = user(b).unwrap();
        assert_eq!(a.verdict, Verdict::Granted);
        assert_eq!(
            a.scontext.as_deref(),
            Some(&b"system_u:system_r:init_t:s0"[..])
        );
        assert_eq!(a.class.as_deref(), Some(&b"service"[..]));
    }
}
