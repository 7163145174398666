//! Auditbeat's categorization tables.
