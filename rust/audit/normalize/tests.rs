//! Unit tests of the normalizer, the csv/text formats and the ECS documents.

use super::format::{csv_header, csv_line, text_line, CsvOptions};
use crate::audit::records::{Event, LogStream};

pub(crate) fn events_of(log: &[u8]) -> Vec<Event> {
    let mut s = LogStream::new(1024, 2000);
    let mut out = Vec::new();
    s.feed(log, &mut out);
    s.finish(&mut out);
    out
}

/// Writes csv and text for the log named by AUDITLINK_NORMALIZE_DUMP (a
/// debugging aid for comparing with ausearch by hand).
#[test]
fn dump_formats_for_a_log() {
    let Ok(path) = std::env::var("AUDITLINK_NORMALIZE_DUMP") else {
        return;
    };
    let log = std::fs::read(&path).unwrap();
    let opts = CsvOptions {
        extra_keys: true,
        extra_labels: true,
        extra_obj2: true,
        extra_time: true,
    };
    let mut csv = csv_header(&CsvOptions::default()).into_bytes();
    let mut csv_x = csv_header(&opts).into_bytes();
    let mut text = Vec::new();
    for e in events_of(&log) {
        csv.extend(csv_line(&e, &CsvOptions::default()));
        csv_x.extend(csv_line(&e, &opts));
        text.extend(text_line(&e));
    }
    std::fs::write(format!("{path}.csv"), csv).unwrap();
    std::fs::write(format!("{path}.xcsv"), csv_x).unwrap();
    std::fs::write(format!("{path}.text"), text).unwrap();
}
