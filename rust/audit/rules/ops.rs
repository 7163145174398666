//! Rules on the kernel: list, add, delete, delete all (src/delete_all.c).
//! Loading a rules file is `load`.

use crate::audit::client::{AuditClient, WaitMode};
use crate::audit::tables::msg;
use crate::error::{Error, Result};

use super::rule::AuditRule;

/// Every rule in the kernel, in the kernel's order (lists in number order,
/// each in rule order).
pub fn list_rules(client: &AuditClient) -> Result<Vec<AuditRule>> {
    let replies = client.request_dump("get_rules", msg::LIST_RULES, &[])?;
    replies
        .iter()
        .filter(|m| m.msg_type == msg::LIST_RULES)
        .map(|m| {
            AuditRule::from_bytes(&m.payload).map_err(|e| {
                Error::Malformed(format!("get_rules: bad AUDIT_LIST_RULES reply: {e}"))
            })
        })
        .collect()
}

pub fn add_rule(client: &AuditClient, rule: &AuditRule, wait: WaitMode) -> Result<()> {
    let bytes = rule.to_bytes()?;
    client
        .request_ack("add_rule", msg::ADD_RULE, &bytes, wait)
        .map(drop)
}

pub fn delete_rule(client: &AuditClient, rule: &AuditRule, wait: WaitMode) -> Result<()> {
    delete_encoded(client, &rule.to_bytes()?, wait)
}

/// Delete the rule whose `audit_rule_data` is `bytes`.
pub(super) fn delete_encoded(client: &AuditClient, bytes: &[u8], wait: WaitMode) -> Result<()> {
    client
        .request_ack("delete_rule", msg::DEL_RULE, bytes, wait)
        .map(drop)
}

/// Which rules a bulk delete removes.
#[derive(Debug, Clone, Copy)]
pub enum KeyFilter<'a> {
    /// Every rule (`auditctl -D`).
    All,
    /// Rules with exactly this key among their keys (`delete_rules_by_key`).
    Exact(&'a [u8]),
    /// auditctl's `-D -k key`: rules whose key field contains `key` anywhere
    /// (src/auditctl-listing.c `key_match` uses `strstr`).
    Substring(&'a [u8]),
}

impl KeyFilter<'_> {
    fn matches(&self, rule: &AuditRule) -> bool {
        match self {
            KeyFilter::All => true,
            KeyFilter::Exact(k) => rule.keys().iter().any(|have| have.as_slice() == *k),
            KeyFilter::Substring(k) => rule
                .fields
                .iter()
                .filter(|f| f.field == super::consts::F_FILTERKEY)
                .any(|f| match &f.value {
                    super::FieldValue::Text(t) => {
                        k.is_empty() || t.windows(k.len()).any(|w| w == *k)
                    }
                    super::FieldValue::Number(_) => false,
                }),
        }
    }
}

/// Delete the rules `filter` selects; returns how many were deleted.
pub fn delete_rules(client: &AuditClient, filter: KeyFilter<'_>) -> Result<u32> {
    let rules = list_rules(client)?;
    let mut deleted = 0;
    for rule in rules.iter().filter(|r| filter.matches(r)) {
        delete_rule(client, rule, WaitMode::WaitForReply)?;
        deleted += 1;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::rules::parse::tests::rule;

    #[test]
    fn key_filters() {
        let r = rule("-a always,exit -F arch=b64 -S open -k alpha -k beta");
        assert!(KeyFilter::Exact(b"alpha").matches(&r));
        assert!(!KeyFilter::Exact(b"alp").matches(&r));
        assert!(KeyFilter::Substring(b"alp").matches(&r));
        assert!(KeyFilter::All.matches(&r));
        let nokey = rule("-a always,exit -F arch=b64 -S open");
        assert!(!KeyFilter::Substring(b"a").matches(&nokey));
    }
}
