//! ausearch and aureport in Rust: grouping log lines into events as they do,
//! search filters, their output formats and report aggregation, and the
//! live counters of `auditlink top`.

pub mod avc;
pub mod fields;
pub mod filter;
pub mod group;
pub mod items;
pub mod output;
pub mod report;
pub mod resume;
pub mod run;
pub mod top;

pub use filter::Filter;
pub use group::{Group, Grouper, Line};
pub use output::{write_event, Format};
pub use run::{rotated_logs, search_to_writer, Outcome, RunOptions, Search};
