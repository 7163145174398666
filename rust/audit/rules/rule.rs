//! `struct audit_rule_data`: the rule as the kernel takes it in
//! AUDIT_ADD_RULE / AUDIT_DEL_RULE and gives it back in AUDIT_LIST_RULES.
//!
//! Layout (include/uapi/linux/audit.h), all native-endian `u32`:
//! ```text
//!    0  flags         list number | AUDIT_FILTER_PREPEND
//!    4  action        never / possible / always
//!    8  field_count   <= 64
//!   12  mask[64]      syscall (or io_uring op) bitmap
//!  268  fields[64]    field numbers
//!  524  values[64]    numbers, or the byte length of a string field
//!  780  fieldflags[64] operators
//! 1036  buflen        total length of the string values
//! 1040  buf[buflen]   the string values, back to back, in field order, no NULs
//! ```

use std::hash::{Hash, Hasher};

use super::consts::*;
use super::RuleError;

/// The value of one field: a number, or the bytes of a string field
/// (paths, keys, security labels).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldValue {
    Number(u32),
    Text(Vec<u8>),
}

/// One `field op value` condition of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleField {
    /// `AUDIT_*` field number.
    pub field: u32,
    /// Operator (`AUDIT_EQUAL`, ...), as in `fieldflags`.
    pub op: u32,
    pub value: FieldValue,
}

impl RuleField {
    pub fn number(field: u32, op: u32, value: u32) -> Self {
        RuleField {
            field,
            op,
            value: FieldValue::Number(value),
        }
    }

    pub fn text(field: u32, op: u32, value: impl Into<Vec<u8>>) -> Self {
        RuleField {
            field,
            op,
            value: FieldValue::Text(value.into()),
        }
    }

    /// The number in the `values[]` slot: the value, or the string length.
    fn wire_value(&self) -> u32 {
        match &self.value {
            FieldValue::Number(n) => *n,
            // Lengths are checked against PATH_MAX when a rule is built.
            FieldValue::Text(t) => u32::try_from(t.len()).unwrap_or(u32::MAX),
        }
    }
}

/// An audit rule: which list, what action, which syscalls, which conditions.
///
/// Equality and hashing treat a mask whose first 63 words are all ones as
/// "all syscalls" whatever its last word says: auditctl sends all 64 words
/// set for `-S all` and `-w`, the kernel expands the syscall-class bits of
/// the last word and reads the rule back without them. Both mean the same
/// rule (and auditctl's own listing makes the same test). `prepend` is an
/// insertion instruction, not part of what the rule matches: the kernel
/// drops it, so it takes no part in equality either.
#[derive(Debug, Clone, Eq)]
pub struct AuditRule {
    /// `AUDIT_FILTER_*` list number (0..=7).
    pub list: u32,
    /// `-A`: insert at the head of the list (`AUDIT_FILTER_PREPEND`). The
    /// kernel does not keep the flag: rules read back never have it.
    pub prepend: bool,
    /// `AUDIT_NEVER` / `AUDIT_POSSIBLE` / `AUDIT_ALWAYS`.
    pub action: u32,
    /// Syscall (or io_uring operation) bitmap.
    pub mask: [u32; BITMASK_SIZE],
    pub fields: Vec<RuleField>,
}

impl AuditRule {
    pub fn new(list: u32, action: u32) -> Self {
        AuditRule {
            list,
            prepend: false,
            action,
            mask: [0; BITMASK_SIZE],
            fields: Vec::new(),
        }
    }

    /// True when every syscall is selected (`-S all`), by auditctl's test.
    pub fn all_syscalls(&self) -> bool {
        self.mask[..BITMASK_SIZE - 1].iter().all(|&w| w == u32::MAX)
    }

    fn canonical_last_word(&self) -> u32 {
        if self.all_syscalls() {
            u32::MAX
        } else {
            self.mask[BITMASK_SIZE - 1]
        }
    }

    /// The syscall numbers in the mask, ascending (class bits included).
    pub fn syscalls(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (word_index, &word) in self.mask.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                // word_index < 64 and bit < 32: fits.
                out.push(word_index as u32 * 32 + bit);
            }
        }
        out
    }

    pub fn set_syscall(&mut self, nr: u32) -> bool {
        let word = (nr / 32) as usize;
        match self.mask.get_mut(word) {
            Some(w) => {
                *w |= 1 << (nr % 32);
                true
            }
            None => false,
        }
    }

    pub fn set_all_syscalls(&mut self) {
        self.mask = [u32::MAX; BITMASK_SIZE];
    }

    /// The filter keys (`-k`), split at `AUDIT_KEY_SEPARATOR`.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.fields
            .iter()
            .filter(|f| f.field == F_FILTERKEY)
            .filter_map(|f| match &f.value {
                FieldValue::Text(t) => Some(t),
                FieldValue::Number(_) => None,
            })
            .flat_map(|t| t.split(|&b| b == KEY_SEPARATOR).filter(|k| !k.is_empty()))
            .map(<[u8]>::to_vec)
            .collect()
    }

    /// The value of the first `arch` field.
    pub fn arch(&self) -> Option<u32> {
        self.fields
            .iter()
            .find(|f| f.field == F_ARCH)
            .and_then(|f| match f.value {
                FieldValue::Number(n) => Some(n),
                FieldValue::Text(_) => None,
            })
    }

    /// The `audit_rule_data` bytes for AUDIT_ADD_RULE / AUDIT_DEL_RULE.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RuleError> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Append the `audit_rule_data` bytes to `out` (unchanged on error): the
    /// header (flags, action, field count, mask, then the field, value and
    /// operator columns), the string length and the strings.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), RuleError> {
        if self.fields.len() > MAX_FIELDS {
            return Err(RuleError::new(format!(
                "a rule has at most {MAX_FIELDS} fields, this one has {}",
                self.fields.len()
            )));
        }
        let mut strings = 0usize;
        for f in &self.fields {
            match (&f.value, is_string_field(f.field)) {
                (FieldValue::Text(t), true) if t.len() > PATH_MAX => {
                    return Err(RuleError::new("String value too long"))
                }
                (FieldValue::Text(t), true) => strings += t.len(),
                (FieldValue::Number(_), false) => {}
                (FieldValue::Text(_), false) => {
                    return Err(RuleError::new(format!("field {} takes a number", f.field)))
                }
                (FieldValue::Number(_), true) => {
                    return Err(RuleError::new(format!("field {} takes a string", f.field)))
                }
            }
        }
        // At most 64 strings of PATH_MAX bytes: fits in u32.
        let buflen = strings as u32;
        let start = out.len();
        out.reserve(RULE_DATA_HEADER_LEN + strings);
        out.resize(start + RULE_DATA_HEADER_LEN, 0);
        let mut words = out[start..].chunks_exact_mut(4);
        let mut put = |v: u32| {
            if let Some(w) = words.next() {
                w.copy_from_slice(&v.to_ne_bytes());
            }
        };
        put(self.list | if self.prepend { FILTER_PREPEND } else { 0 });
        put(self.action);
        // fields.len() <= 64, checked above.
        put(self.fields.len() as u32);
        self.mask.iter().for_each(|&w| put(w));
        let columns: [fn(&RuleField) -> u32; 3] = [|f| f.field, RuleField::wire_value, |f| f.op];
        for get in columns {
            (0..MAX_FIELDS).for_each(|i| put(self.fields.get(i).map_or(0, get)));
        }
        put(buflen);
        for f in &self.fields {
            if let FieldValue::Text(t) = &f.value {
                out.extend_from_slice(t);
            }
        }
        Ok(())
    }

    /// Decode `audit_rule_data` (an AUDIT_LIST_RULES reply payload). Up to 3
    /// trailing bytes after `buf` are tolerated: netlink pads messages to 4.
    pub fn from_bytes(data: &[u8]) -> Result<Self, RuleError> {
        let word = |index: usize| -> Result<u32, RuleError> {
            let start = index * 4;
            data.get(start..start + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_ne_bytes)
                .ok_or_else(|| {
                    RuleError::new(format!(
                        "audit_rule_data is {} bytes, shorter than its {RULE_DATA_HEADER_LEN}-byte header",
                        data.len()
                    ))
                })
        };
        let flags = word(0)?;
        let action = word(1)?;
        let field_count = word(2)? as usize;
        if field_count > MAX_FIELDS {
            return Err(RuleError::new(format!(
                "audit_rule_data has field_count {field_count} (at most {MAX_FIELDS})"
            )));
        }
        if flags & !(FILTER_MASK | FILTER_PREPEND) != 0 {
            return Err(RuleError::new(format!(
                "audit_rule_data has unknown flags {flags:#x}"
            )));
        }
        let mut mask = [0u32; BITMASK_SIZE];
        for (i, m) in mask.iter_mut().enumerate() {
            *m = word(3 + i)?;
        }
        const FIELDS_AT: usize = 3 + BITMASK_SIZE;
        const VALUES_AT: usize = FIELDS_AT + MAX_FIELDS;
        const FLAGS_AT: usize = VALUES_AT + MAX_FIELDS;
        const BUFLEN_AT: usize = FLAGS_AT + MAX_FIELDS;
        let buflen = word(BUFLEN_AT)? as usize;
        let buf_end = RULE_DATA_HEADER_LEN
            .checked_add(buflen)
            .filter(|&end| end <= data.len());
        let Some(buf_end) = buf_end else {
            return Err(RuleError::new(format!(
                "audit_rule_data says buflen {buflen} but only {} bytes follow the header",
                data.len().saturating_sub(RULE_DATA_HEADER_LEN)
            )));
        };
        if data.len() - buf_end > 3 {
            return Err(RuleError::new(format!(
                "audit_rule_data has {} unexpected bytes after buf",
                data.len() - buf_end
            )));
        }
        let buf = &data[RULE_DATA_HEADER_LEN..buf_end];
        let mut offset = 0usize;
        let mut fields = Vec::with_capacity(field_count);
        for i in 0..field_count {
            // Old kernels/tools put the operator into fields[]; mask it off
            // like auditctl's listing does.
            let raw_field = word(FIELDS_AT + i)?;
            let field = raw_field & !OPERATORS;
            let value = word(VALUES_AT + i)?;
            let mut op = word(FLAGS_AT + i)? & OPERATORS;
            if op == 0 {
                op = raw_field & OPERATORS;
            }
            if is_string_field(field) {
                let len = value as usize;
                let text = offset
                    .checked_add(len)
                    .and_then(|end| buf.get(offset..end))
                    .ok_or_else(|| {
                        RuleError::new(format!(
                            "string field {i} (length {len}) runs past buf (buflen {buflen})"
                        ))
                    })?;
                offset += len;
                fields.push(RuleField::text(field, op, text));
            } else {
                fields.push(RuleField::number(field, op, value));
            }
        }
        if offset != buflen {
            return Err(RuleError::new(format!(
                "audit_rule_data has buflen {buflen} but its string fields use {offset} bytes"
            )));
        }
        Ok(AuditRule {
            list: flags & FILTER_MASK,
            prepend: flags & FILTER_PREPEND != 0,
            action,
            mask,
            fields,
        })
    }
}

impl PartialEq for AuditRule {
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list
            && self.action == other.action
            && self.mask[..BITMASK_SIZE - 1] == other.mask[..BITMASK_SIZE - 1]
            && self.canonical_last_word() == other.canonical_last_word()
            && self.fields == other.fields
    }
}

impl Hash for AuditRule {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.list.hash(state);
        self.action.hash(state);
        self.mask[..BITMASK_SIZE - 1].hash(state);
        self.canonical_last_word().hash(state);
        self.fields.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u32s(bytes: &[u8], index: usize) -> u32 {
        u32::from_ne_bytes(bytes[index * 4..index * 4 + 4].try_into().unwrap())
    }

    /// `-w /etc/shadow -p wa -k identity` as auditctl 3.0.9 sends it
    /// (strace of sendto), field by field.
    #[test]
    fn golden_watch_rule() {
        let mut rule = AuditRule::new(FILTER_EXIT, ACTION_ALWAYS);
        rule.set_all_syscalls();
        rule.fields
            .push(RuleField::text(F_WATCH, OP_EQUAL, "/etc/shadow"));
        rule.fields
            .push(RuleField::number(F_PERM, OP_EQUAL, PERM_WRITE | PERM_ATTR));
        rule.fields
            .push(RuleField::text(F_FILTERKEY, OP_EQUAL, "identity"));
        let b = rule.to_bytes().unwrap();
        assert_eq!(b.len(), 1040 + 19);
        assert_eq!(u32s(&b, 0), 4, "flags: AUDIT_FILTER_EXIT");
        assert_eq!(u32s(&b, 1), 2, "action: AUDIT_ALWAYS");
        assert_eq!(u32s(&b, 2), 3, "field_count");
        assert!(
            (3..67).all(|i| u32s(&b, i) == u32::MAX),
            "mask: all syscalls"
        );
        assert_eq!(
            (u32s(&b, 67), u32s(&b, 68), u32s(&b, 69)),
            (105, 106, 210),
            "fields"
        );
        assert_eq!(u32s(&b, 70), 0, "unused field slot");
        assert_eq!(
            (u32s(&b, 131), u32s(&b, 132), u32s(&b, 133)),
            (11, 10, 8),
            "values"
        );
        assert_eq!(u32s(&b, 195), OP_EQUAL, "fieldflags[0]");
        assert_eq!(u32s(&b, 259), 19, "buflen");
        assert_eq!(&b[1040..], b"/etc/shadowidentity");
        let back = AuditRule::from_bytes(&b).unwrap();
        assert_eq!(back, rule);
        assert_eq!(back.keys(), vec![b"identity".to_vec()]);
    }

    #[test]
    fn readback_without_class_bits_is_the_same_rule() {
        let mut sent = AuditRule::new(FILTER_EXIT, ACTION_ALWAYS);
        sent.set_all_syscalls();
        let mut read_back = sent.clone();
        read_back.mask[63] = 0xffff;
        assert_eq!(sent, read_back);
        use std::collections::hash_map::DefaultHasher;
        let h = |r: &AuditRule| {
            let mut s = DefaultHasher::new();
            r.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(&sent), h(&read_back));
    }

    #[test]
    fn malformed_inputs_are_errors() {
        assert!(AuditRule::from_bytes(&[]).is_err());
        assert!(AuditRule::from_bytes(&[0; 1039]).is_err());
        let mut b = vec![0u8; 1040];
        b[8] = 65; // field_count 65
        assert!(AuditRule::from_bytes(&b).is_err());
        let mut b = vec![0u8; 1040];
        b[1036] = 5; // buflen 5, nothing follows
        assert!(AuditRule::from_bytes(&b).is_err());
        let mut b = vec![0u8; 1044];
        b[1036] = 4; // buflen 4 but no string field uses it
        assert!(AuditRule::from_bytes(&b).is_err());
        // a string field longer than buf
        let mut rule = AuditRule::new(FILTER_EXIT, ACTION_ALWAYS);
        rule.fields
            .push(RuleField::text(F_FILTERKEY, OP_EQUAL, "abc"));
        let mut b = rule.to_bytes().unwrap();
        b[524..528].copy_from_slice(&10u32.to_ne_bytes());
        assert!(AuditRule::from_bytes(&b).is_err());
        assert!(AuditRule::from_bytes(&[0; 1040]).is_ok());
        assert!(AuditRule::from_bytes(&[0; 1043]).is_ok(), "netlink padding");
    }

    fn arb_field() -> impl Strategy<Value = RuleField> {
        let ops = prop::sample::select(vec![
            OP_EQUAL,
            OP_NOT_EQUAL,
            OP_LESS_THAN,
            OP_GREATER_THAN,
            OP_LESS_THAN_OR_EQUAL,
            OP_GREATER_THAN_OR_EQUAL,
            OP_BIT_MASK,
            OP_BIT_TEST,
        ]);
        let num_fields = prop::sample::select(vec![F_PID, F_UID, F_EXIT, F_ARCH, F_ARG0, F_PERM]);
        let str_fields =
            prop::sample::select(vec![F_WATCH, F_DIR, F_FILTERKEY, F_EXE, F_SUBJ_USER]);
        prop_oneof![
            (num_fields, ops.clone(), any::<u32>())
                .prop_map(|(f, o, v)| RuleField::number(f, o, v)),
            (str_fields, ops, prop::collection::vec(any::<u8>(), 0..40))
                .prop_map(|(f, o, v)| RuleField::text(f, o, v)),
        ]
    }

    proptest! {
        #[test]
        fn decode_build_round_trip(
            list in 0u32..8,
            prepend: bool,
            action in 0u32..3,
            mask in prop::array::uniform32(any::<u32>()),
            fields in prop::collection::vec(arb_field(), 0..=64),
        ) {
            let mut rule = AuditRule::new(list, action);
            rule.prepend = prepend;
            rule.mask[..32].copy_from_slice(&mask);
            rule.fields = fields;
            let bytes = rule.to_bytes().unwrap();
            let back = AuditRule::from_bytes(&bytes).unwrap();
            prop_assert_eq!(&back, &rule);
            prop_assert_eq!(back.to_bytes().unwrap(), bytes);
        }

        #[test]
        fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..1200)) {
            let _ = AuditRule::from_bytes(&data);
        }

        #[test]
        fn random_headers_never_panic(
            count in 0u32..80, buflen in 0u32..100, lens in prop::collection::vec(0u32..60, 64),
            fields in prop::collection::vec(prop::sample::select(vec![F_UID, F_WATCH, F_FILTERKEY]), 64),
            tail in prop::collection::vec(any::<u8>(), 0..100),
        ) {
            let mut b = vec![0u8; 1040];
            b[8..12].copy_from_slice(&count.to_ne_bytes());
            for i in 0..64 {
                b[268 + 4 * i..272 + 4 * i].copy_from_slice(&fields[i].to_ne_bytes());
                b[524 + 4 * i..528 + 4 * i].copy_from_slice(&lens[i].to_ne_bytes());
            }
            b[1036..1040].copy_from_slice(&buflen.to_ne_bytes());
            b.extend_from_slice(&tail);
            let _ = AuditRule::from_bytes(&b);
        }
    }
}
