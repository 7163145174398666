//! Elastic Common Schema documents for events (Auditbeat's auditd module).
