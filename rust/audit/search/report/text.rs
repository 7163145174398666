//! aureport's text: the title block, one numbered line per event for the
//! detailed reports, `count  value` lines for `--summary`, and the summary
//! report's counters — byte for byte as aureport 3.0.9 prints them.

use std::io::Write;

use super::{date, date_time, time_of_day, tty_escaped, Kind, Report, Row};

/// Title and column header of a detailed report.
fn detailed_title(k: Kind) -> &'static str {
    use Kind::*;
    match k {
        Config => "Config Change Report\n===================================\n# date time type auid success event\n===================================\n",
        Auth => "Authentication Report\n============================================\n# date time acct host term exe success event\n============================================\n",
        Login => "Login Report\n============================================\n# date time auid host term exe success event\n============================================\n",
        Mods => "Account Modifications Report\n=================================================\n# date time auid addr term exe acct success event\n=================================================\n",
        Event => "Event Report\n===================================\n# date time event type auid success\n===================================\n",
        File => "File Report\n===============================================\n# date time file syscall success exe auid event\n===============================================\n",
        Host => "Host Report\n===================================\n# date time host syscall auid event\n===================================\n",
        Pid => "Process ID Report\n======================================\n# date time pid exe syscall auid event\n======================================\n",
        Syscall => "Syscall Report\n=======================================\n# date time syscall pid comm auid event\n=======================================\n",
        Terminal => "Terminal Report\n====================================\n# date time term host exe auid event\n====================================\n",
        User => "User ID Report\n====================================\n# date time auid term host exe event\n====================================\n",
        Executable => "Executable Report\n====================================\n# date time exe term host auid event\n====================================\n",
        Comm => "Command Report\n====================================\n# date time comm term host auid event\n=====================================\n",
        Anomaly => "Anomaly Report\n=========================================\n# date time type exe term host auid event\n=========================================\n",
        Key => "Key Report\n===============================================\n# date time key success exe auid event\n===============================================\n",
        Mac => "MAC Report\n===================================\n# date time auid type success event\n===================================\n",
        Crypto => "Crypto Report\n===================================\n# date time auid type success event\n===================================\n",
        Integrity => "Integrity Report\n==============================\n# date time type success event\n==============================\n",
        Virt => "Virtualization Report\n==============================\n# date time type success event\n==============================\n",
        Response => "Response to Anomaly Report\n==============================\n# date time type success event\n==============================\n",
        Avc => "AVC Report\n===============================================================\n# date time comm subj syscall class permission obj result event\n===============================================================\n",
        Tty => "TTY Report\n===============================================\n# date time event auid term sess comm data\n===============================================\n",
        Time => "Log Time Range Report\n=====================\n",
        Summary => "",
    }
}

/// Title of a `--summary` report.
fn summary_title(k: Kind) -> &'static str {
    use Kind::*;
    match k {
        Summary => "Summary Report\n======================\n",
        Config => "Config Change Summary Report\n============================\ntotal  type\n============================\n",
        Auth => "Authentication Summary Report\n=============================\ntotal  acct\n=============================\n",
        Login => "Login Summary Report\n============================\ntotal  auid\n============================\n",
        Mods => "Acct Modification Summary Report\n================================\ntotal  type\n================================\n",
        Event => "Event Summary Report\n======================\ntotal  type\n======================\n",
        File => "File Summary Report\n===========================\ntotal  file\n===========================\n",
        Host => "Host Summary Report\n===========================\ntotal  host\n===========================\n",
        Pid => "Pid Summary Report\n==========================\ntotal  pid\n==========================\n",
        Syscall => "Syscall Summary Report\n==========================\ntotal  syscall\n==========================\n",
        Terminal => "Terminal Summary Report\n===============================\ntotal  terminal\n===============================\n",
        User => "User Summary Report\n===========================\ntotal  auid\n===========================\n",
        Executable => "Executable Summary Report\n=================================\ntotal  file\n=================================\n",
        Comm => "Command Summary Report\n=================================\ntotal  command\n=================================\n",
        Anomaly => "Anomaly Summary Report\n======================\ntotal  type\n======================\n",
        Key => "Key Summary Report\n===========================\ntotal  key\n===========================\n",
        Mac => "MAC Summary Report\n==================\ntotal  type\n==================\n",
        Integrity => "Integrity Summary Report\n========================\ntotal  type\n========================\n",
        Virt => "Virtualization Summary Report\n=============================\ntotal  type\n=============================\n",
        Crypto => "Crypto Summary Report\n=====================\ntotal  type\n=====================\n",
        Response => "Anomaly Response Summary Report\n===============================\ntotal  type\n===============================\n",
        Avc => "Avc Object Summary Report\n=================================\ntotal  obj\n=================================\n",
        Tty | Time => "",
    }
}

/// `date time.milli`, as aureport prints a time range's ends.
fn stamp((sec, milli): (u64, u32), out: &mut Vec<u8>) {
    date_time(sec, out);
    let _ = write!(out, ".{milli:03}");
}

const NOTHING: &[u8] = b"<no events of interest were found>\n\n";

/// A finished report as rows: for detailed reports the columns after the
/// line number (date and time first), for `--summary` the count then the
/// value, for the summary report one (label, value) pair per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Row>,
}

fn cols(title: &'static str) -> Vec<&'static str> {
    title
        .lines()
        .find(|l| l.starts_with("# ") || l.starts_with("total"))
        .map(|l| {
            l.trim_start_matches("# ")
                .split(' ')
                .filter(|c| !c.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

impl Report {
    fn detailed(&self) -> bool {
        self.opts.kind != Kind::Summary && !self.opts.summary
    }

    /// Did any event go into the report (aureport exits 1 when a detailed
    /// report found nothing)?
    pub fn found(&self) -> bool {
        if self.opts.summary && !self.opts.kind.has_summary() {
            return false;
        }
        !self.detailed() || self.opts.kind == Kind::Time || !self.rows.is_empty()
    }

    /// The whole report as aureport prints it.
    pub fn text(&self) -> Vec<u8> {
        let mut out = vec![b'\n'];
        if self.detailed() {
            out.extend_from_slice(detailed_title(self.opts.kind).as_bytes());
            if self.opts.kind == Kind::Time {
                self.time_ranges(&mut out);
                return out;
            }
            if self.rows.is_empty() {
                out.extend_from_slice(NOTHING);
                return out;
            }
            for (i, (sec, row)) in self.rows.iter().enumerate() {
                let _ = write!(out, "{}. ", i + 1);
                date_time(*sec, &mut out);
                // A TTY record without data: aureport stops after the date.
                if row.is_empty() {
                    out.push(b' ');
                    continue;
                }
                for c in row {
                    out.push(b' ');
                    tty_escaped(c, &mut out);
                }
                out.push(b'\n');
            }
            return out;
        }
        match self.opts.success {
            Some(false) => out.extend_from_slice(b"Failed "),
            Some(true) => out.extend_from_slice(b"Success "),
            None => {}
        }
        if !self.opts.kind.has_summary() {
            // aureport gives up after the title's first word.
            return out;
        }
        out.extend_from_slice(summary_title(self.opts.kind).as_bytes());
        if self.opts.kind == Kind::Summary {
            self.summary_text(&mut out);
            return out;
        }
        let rows = self.summary_rows();
        if rows.is_empty() {
            out.extend_from_slice(NOTHING);
        }
        for r in rows {
            out.extend_from_slice(&r[0]);
            out.extend_from_slice(b"  ");
            // The AVC objects are printed as they are.
            if self.opts.kind == Kind::Avc {
                out.extend_from_slice(&r[1]);
            } else {
                tty_escaped(&r[1], &mut out);
            }
            out.push(b'\n');
        }
        out
    }

    /// `-t`: each file's first and last event, or "no records".
    fn time_ranges(&self, out: &mut Vec<u8>) {
        for (name, range) in &self.files {
            out.extend_from_slice(name);
            out.extend_from_slice(b": ");
            match range {
                Some((first, last)) => {
                    stamp(*first, out);
                    out.extend_from_slice(b" - ");
                    stamp(*last, out);
                    out.push(b'\n');
                }
                None => out.extend_from_slice(b"no records\n"),
            }
        }
    }

    /// `count, value` rows of a `--summary` report, most frequent first.
    fn summary_rows(&self) -> Vec<Row> {
        use Kind::*;
        let count = |n: u64| n.to_string().into_bytes();
        match self.opts.kind {
            Pid => self
                .types
                .sorted()
                .into_iter()
                .map(|(v, c)| vec![count(c), v.to_string().into_bytes()])
                .collect(),
            Config | Mods | Anomaly | Event | Mac | Integrity | Virt | Crypto | Response => self
                .types
                .sorted()
                .into_iter()
                .map(|(t, c)| {
                    let name = if self.opts.interpret {
                        self.type_text(t as u16)
                    } else {
                        t.to_string().into_bytes()
                    };
                    vec![count(c), name]
                })
                .collect(),
            _ => self
                .values
                .sorted()
                .into_iter()
                .map(|(v, c)| vec![count(c), v])
                .collect(),
        }
    }

    fn summary_pairs(&self) -> Vec<(&'static str, u64)> {
        let d = &self.sum;
        vec![
            ("Number of changes in configuration", d.changes),
            (
                "Number of changes to accounts, groups, or roles",
                d.acct_changes,
            ),
            ("Number of logins", d.good_logins),
            ("Number of failed logins", d.bad_logins),
            ("Number of authentications", d.good_auth),
            ("Number of failed authentications", d.bad_auth),
            ("Number of users", d.users.len() as u64),
            ("Number of terminals", d.terms.len() as u64),
            ("Number of host names", d.hosts.len() as u64),
            ("Number of executables", d.exes.len() as u64),
            ("Number of commands", d.comms.len() as u64),
            ("Number of files", d.files.len() as u64),
            ("Number of AVC's", d.avcs),
            ("Number of MAC events", d.mac),
            ("Number of failed syscalls", d.failed_syscalls),
            ("Number of anomaly events", d.anomalies),
            ("Number of responses to anomaly events", d.responses),
            ("Number of crypto events", d.crypto),
            ("Number of integrity events", d.integ),
            ("Number of virt events", d.virt),
            ("Number of keys", d.keys.len() as u64),
            ("Number of process IDs", d.pids.0.len() as u64),
            ("Number of events", d.events),
        ]
    }

    fn summary_text(&self, out: &mut Vec<u8>) {
        let (fsec, fmilli) = self.first_line.unwrap_or((0, 0));
        let (lsec, lmilli) = self.last_event.unwrap_or((0, 0));
        out.extend_from_slice(b"Range of time in logs: ");
        stamp((fsec, fmilli), out);
        out.extend_from_slice(b" - ");
        stamp((lsec, lmilli), out);
        out.push(b'\n');
        out.extend_from_slice(b"Selected time for report: ");
        date_time(self.opts.start.unwrap_or(fsec), out);
        out.extend_from_slice(b" - ");
        match self.opts.end {
            Some(e) => {
                date_time(e, out);
                out.push(b'\n');
            }
            None => {
                date_time(lsec, out);
                let _ = writeln!(out, ".{lmilli:03}");
            }
        }
        for (label, v) in self.summary_pairs() {
            let _ = writeln!(out, "{label}: {v}");
        }
        out.push(b'\n');
    }

    /// The report as rows (see [`Rows`]).
    pub fn rows(&self) -> Rows {
        if self.opts.kind == Kind::Time {
            let text = |r: Option<(u64, u32)>| {
                let mut t = Vec::new();
                if let Some(r) = r {
                    stamp(r, &mut t);
                }
                t
            };
            return Rows {
                columns: vec!["file", "first", "last"],
                rows: self
                    .files
                    .iter()
                    .map(|(name, r)| vec![name.clone(), text(r.map(|r| r.0)), text(r.map(|r| r.1))])
                    .collect(),
            };
        }
        if self.opts.kind == Kind::Summary {
            return Rows {
                columns: vec!["label", "value"],
                rows: self
                    .summary_pairs()
                    .into_iter()
                    .map(|(l, v)| vec![l.as_bytes().to_vec(), v.to_string().into_bytes()])
                    .collect(),
            };
        }
        if !self.detailed() {
            return Rows {
                columns: cols(summary_title(self.opts.kind)),
                rows: self.summary_rows(),
            };
        }
        let rows = self
            .rows
            .iter()
            .map(|(sec, r)| {
                let mut d = Vec::new();
                date(*sec, &mut d);
                let mut t = Vec::new();
                time_of_day(*sec, &mut t);
                let mut row = vec![d, t];
                row.extend(r.iter().cloned());
                row
            })
            .collect();
        Rows {
            columns: cols(detailed_title(self.opts.kind)),
            rows,
        }
    }
}
