//! One condition of a rule: `-F name<op>value` and `-C left<op>right`, with
//! the C number forms and libaudit's checks and messages.

use crate::audit::tables;

use super::consts::*;
use super::lookup::{self, AuditArch, ARCH_64BIT};
use super::parse::LineParser;
use super::rule::{FieldValue, RuleField};

/// A number as C's `strtoul(s, NULL, 0)` reads it (`0x` hex, leading `0`
/// octal, else decimal), but the whole string must be the number.
pub(super) fn parse_c_unsigned(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (hex, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

pub(super) enum NumError {
    NotANumber,
    TooLarge,
}

/// `strtoul` when the value starts with a digit, `strtol` when it is `-`
/// followed by a digit (libaudit's "positive & negative separate for 32 bit
/// systems"), stored as the 32-bit two's complement like libaudit does.
pub(super) fn parse_signed_or_unsigned(s: &str) -> Result<u32, NumError> {
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        let v = parse_c_unsigned(s).ok_or(NumError::NotANumber)?;
        u32::try_from(v).map_err(|_| NumError::TooLarge)
    } else if let Some(rest) = s
        .strip_prefix('-')
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    {
        let v = parse_c_unsigned(rest).ok_or(NumError::NotANumber)?;
        if v > 1 << 31 {
            return Err(NumError::TooLarge);
        }
        // v <= 2^31: the negation fits in i32's range as an i64.
        Ok((-(v as i64)) as i32 as u32)
    } else {
        Err(NumError::NotANumber)
    }
}

pub(super) fn starts_with_digit(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit())
}

/// libaudit's `err_msgtab` forms: position 1 puts the option text before
/// the message, position 2 after it.
pub(super) fn before(opt: &str, msg: &str) -> String {
    format!("{opt} {msg}")
}
pub(super) fn after(msg: &str, opt: &str) -> String {
    format!("{msg} {opt}")
}

impl LineParser<'_> {
    /// `audit_rule_interfield_comp_data` (`-C`).
    pub(super) fn compare(&mut self, pair: &str, flags: u32) -> Result<(), String> {
        if self.rule.fields.len() >= MAX_FIELDS - 1 {
            return Err(after("Too many fields in rule:", pair));
        }
        let (left, op, right) = if let Some((l, r)) = pair.split_once("!=") {
            (l, OP_NOT_EQUAL, r)
        } else if let Some((l, r)) = pair.split_once('=') {
            (l, OP_EQUAL, r)
        } else {
            return Err(before(pair, "only takes = or != operators"));
        };
        if left.is_empty() {
            return Err(after("-C missing field name before operator for", left));
        }
        if right.is_empty() {
            return Err(after("-C missing value after operation for", left));
        }
        let f1 = field_by_name(left).ok_or_else(|| after("-C unknown field:", left))?;
        let f2 = field_by_name(right)
            .ok_or_else(|| after("-C unknown right hand value for comparison with:", left))?;
        if flags != FILTER_EXIT && flags != FILTER_URING_EXIT {
            return Err(before(left, "can only be used with exit filter list"));
        }
        let value =
            comparison_for(f1, f2).ok_or_else(|| after("-C incompatible comparison", left))?;
        self.rule
            .fields
            .push(RuleField::number(F_FIELD_COMPARE, op, value));
        Ok(())
    }

    /// `audit_rule_fieldpair_data` (`-F`).
    pub(super) fn fieldpair(&mut self, pair: &str, flags: u32) -> Result<(), String> {
        if self.rule.fields.len() >= MAX_FIELDS - 1 {
            return Err(after("Too many fields in rule:", pair));
        }
        let bytes = pair.as_bytes();
        // Without `!`, `<`, `>` or `&` only `=` can match: the first one.
        let found = if !bytes.iter().any(|b| matches!(b, b'!' | b'<' | b'>' | b'&')) {
            bytes
                .iter()
                .position(|&b| b == b'=')
                .map(|at| (at, 1, OP_EQUAL))
        } else {
            OPERATOR_SEARCH_ORDER.iter().find_map(|&(sym, op)| {
                let sym = sym.as_bytes();
                bytes
                    .windows(sym.len())
                    .position(|w| w == sym)
                    .map(|at| (at, sym.len(), op))
            })
        };
        let Some((at, oplen, op)) = found else {
            return Err(after("-F missing operation for", pair));
        };
        let name = &pair[..at];
        let v = &pair[at + oplen..];
        if name.is_empty() {
            return Err(after("-F missing field name before operator for", name));
        }
        if v.is_empty() {
            return Err(after("-F missing value after operation for", name));
        }
        let field = field_by_name(name).ok_or_else(|| after("-F unknown field:", name))?;
        let exit_like = flags == FILTER_EXIT || flags == FILTER_URING_EXIT;
        let exit_only = || -> Result<(), String> {
            if exit_like {
                Ok(())
            } else {
                Err(before(name, "can only be used with exit filter list"))
            }
        };
        let eq_ne = || -> Result<(), String> {
            if op == OP_EQUAL || op == OP_NOT_EQUAL {
                Ok(())
            } else {
                Err(before(name, "only takes = or != operators"))
            }
        };
        let number = |v: &str| -> Result<u32, String> {
            parse_signed_or_unsigned(v).map_err(|e| match e {
                NumError::NotANumber => after("-F value should be number for", name),
                NumError::TooLarge => after("value is too large for field:", name),
            })
        };
        if flags == FILTER_EXCLUDE
            && !matches!(
                field,
                F_PID
                    | F_UID
                    | F_GID
                    | F_LOGINUID
                    | F_MSGTYPE
                    | F_SUBJ_USER
                    | F_SUBJ_ROLE
                    | F_SUBJ_TYPE
                    | F_SUBJ_SEN
                    | F_SUBJ_CLR
                    | F_EXE
            )
        {
            return Err(
                "Only msgtype, *uid, *gid, pid, and subj* fields can be used with exclude filter"
                    .into(),
            );
        }
        let value = match field {
            F_UID | F_EUID | F_SUID | F_FSUID | F_LOGINUID | F_OBJ_UID => {
                if starts_with_digit(v)
                    || (v.starts_with('-') && v[1..].starts_with(|c: char| c.is_ascii_digit()))
                {
                    FieldValue::Number(number(v)?)
                } else if v == "unset" {
                    FieldValue::Number(UNSET)
                } else {
                    FieldValue::Number(
                        self.env
                            .user_id(v)
                            .ok_or_else(|| format!("Unknown user: {v}"))?,
                    )
                }
            }
            F_GID | F_EGID | F_SGID | F_FSGID | F_OBJ_GID => {
                if starts_with_digit(v) {
                    FieldValue::Number(number(v)?)
                } else {
                    FieldValue::Number(
                        self.env
                            .group_id(v)
                            .ok_or_else(|| format!("Unknown group: {v}"))?,
                    )
                }
            }
            F_EXIT => {
                exit_only()?;
                if starts_with_digit(v)
                    || (v.starts_with('-') && v[1..].starts_with(|c: char| c.is_ascii_digit()))
                {
                    FieldValue::Number(number(v)?)
                } else {
                    let (sign, errname) = match v.strip_prefix('-') {
                        Some(rest) => (-1i64, rest),
                        None => (1, v),
                    };
                    let e = tables::errno_number(errname)
                        .ok_or_else(|| after("-F unknown errno -", name))?;
                    FieldValue::Number((sign * i64::from(e)) as i32 as u32)
                }
            }
            F_MSGTYPE => {
                if flags != FILTER_EXCLUDE && flags != FILTER_USER {
                    return Err(
                        "msgtype field can only be used with exclude or user filter list".into(),
                    );
                }
                if starts_with_digit(v) {
                    FieldValue::Number(number(v)?)
                } else {
                    FieldValue::Number(
                        tables::message_type_by_name(v)
                            .map(u32::from)
                            .ok_or_else(|| after("-F unknown message type -", name))?,
                    )
                }
            }
            _ if is_string_field(field) => {
                if is_object_string_field(field) {
                    exit_only()?;
                    if field == F_WATCH || field == F_DIR {
                        self.perm_added = true;
                    }
                }
                if field == F_EXE {
                    eq_ne()?;
                    self.exe_added = true;
                }
                if field == F_FILTERKEY
                    && !(self.syscall_added
                        || self.uringop_added
                        || self.perm_added
                        || self.exe_added
                        || self.filterfs_added)
                {
                    return Err(
                        "Key field needs a watch, syscall or exe path given prior to it".into(),
                    );
                }
                // -k and -F key= check each key before joining them with
                // the separator; a key compared otherwise is one value.
                if field == F_FILTERKEY && op != OP_EQUAL && v.as_bytes().contains(&KEY_SEPARATOR) {
                    return Err(format!("key {v} has illegal character"));
                }
                if (field == F_FILTERKEY && v.len() > MAX_KEY_LEN) || v.len() > PATH_MAX {
                    return Err("String value too long".into());
                }
                FieldValue::Text(v.as_bytes().to_vec())
            }
            F_ARCH => {
                if self.syscall_added || self.uringop_added {
                    return Err(before(name, "must be before -S"));
                }
                eq_ne()?;
                let arch = self.determine_arch(v).map_err(|m| before(name, m))?;
                self.elf = Some(arch);
                FieldValue::Number(arch)
            }
            F_PERM => {
                if flags != FILTER_EXIT {
                    return Err(before(name, "can only be used with exit filter list"));
                }
                if op != OP_EQUAL {
                    return Err(before(name, "only takes = operator"));
                }
                if v.len() > 4 {
                    return Err("String value too long".into());
                }
                let val = perm_from_letters(v)
                    .map_err(|_| "Permission can only contain  'rwxa'".to_string())?;
                FieldValue::Number(val)
            }
            F_FILETYPE => {
                exit_only()?;
                // auditctl -l prints file types as numbers; accept them back.
                let t = lookup_ci(FILE_TYPES, v)
                    .or_else(|| {
                        if starts_with_digit(v) {
                            parse_c_unsigned(v).and_then(|n| u32::try_from(n).ok())
                        } else {
                            None
                        }
                    })
                    .ok_or_else(|| after("-F unknown file type - ", name))?;
                FieldValue::Number(t)
            }
            F_FSTYPE => {
                if flags != FILTER_FS {
                    return Err(before(name, "field is not valid for the filter"));
                }
                eq_ne()?;
                let t = if starts_with_digit(v) {
                    number(v)?
                } else {
                    lookup_ci(FS_TYPES, v)
                        .ok_or_else(|| after("file system type is unknown for field:", name))?
                };
                self.filterfs_added = true;
                FieldValue::Number(t)
            }
            F_ARG0..=F_ARG3 => FieldValue::Number(number(v)?),
            F_SESSIONID => {
                if flags != FILTER_EXCLUDE && flags != FILTER_USER && !exit_like {
                    return Err(before(
                        name,
                        "must be used with exclude, user, or exit filter",
                    ));
                }
                if v == "unset" {
                    FieldValue::Number(UNSET)
                } else {
                    FieldValue::Number(number(v)?)
                }
            }
            F_SADDR_FAM => {
                if !starts_with_digit(v) {
                    return Err(after("-F value should be number for", name));
                }
                let fam = number(v)?;
                if fam >= AF_MAX {
                    return Err(after("value is too large for field:", name));
                }
                FieldValue::Number(fam)
            }
            F_LOGINUID_SET => {
                eq_ne()?;
                if !starts_with_digit(v) {
                    return Err(after("-F value should be number for", name));
                }
                FieldValue::Number(number(v)?)
            }
            _ => {
                if matches!(field, F_DEVMAJOR | F_DEVMINOR | F_INODE | F_SUCCESS) {
                    exit_only()?;
                }
                if field == F_INODE {
                    eq_ne()?;
                }
                if field == F_PPID && !exit_like {
                    return Err(before(name, "can only be used with exit filter list"));
                }
                if !starts_with_digit(v) {
                    return Err(after("-F value should be number for", name));
                }
                FieldValue::Number(number(v)?)
            }
        };
        self.rule.fields.push(RuleField { field, op, value });
        Ok(())
    }

    /// `audit_determine_machine` + the elf checks of the `AUDIT_ARCH` case.
    pub(super) fn determine_arch(&self, v: &str) -> Result<AuditArch, &'static str> {
        if starts_with_digit(v) {
            let arch = parse_c_unsigned(v)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("elf mapping not found")?;
            return if lookup::arch_is_known(arch) {
                Ok(arch)
            } else {
                Err("elf mapping not found")
            };
        }
        let host = || self.env.host_arch().ok_or("machine type not found");
        if v.eq_ignore_ascii_case("b64") {
            let h = host()?;
            return if h & ARCH_64BIT != 0 {
                Ok(h)
            } else {
                Err("requested bit level not supported by machine")
            };
        }
        if v.eq_ignore_ascii_case("b32") {
            let h = host()?;
            return if h & ARCH_64BIT == 0 {
                Ok(h)
            } else {
                lookup::arch_32bit_of(h).ok_or("requested bit level not supported by machine")
            };
        }
        if let Some(a) = lookup::machine_arch(v) {
            return Ok(a);
        }
        // libaudit's last resort: the value as a hex AUDIT_ARCH number.
        u32::from_str_radix(v.trim_start_matches("0x").trim_start_matches("0X"), 16)
            .ok()
            .filter(|&a| lookup::arch_is_known(a))
            .ok_or("elf mapping not found")
    }
}
