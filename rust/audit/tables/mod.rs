//! Lookup tables shared by the client, the record parser and the rule codec.
//! PLACEHOLDER: replaced by the generated tables (tools/gen_tables.py).

/// What a message type is used for (ranges from include/uapi/linux/audit.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// 1000-1099: commands to the kernel and their replies.
    Control,
    /// 1100-1199 and 2100-2999: messages user space sends (AUDIT_USER_*).
    UserMessage,
    /// Everything the kernel emits as an audit record.
    KernelEvent,
}

/// One message type: its number, its name without the `AUDIT_` prefix (as
/// auparse prints it in `type=`), and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageTypeInfo {
    pub number: u16,
    pub name: &'static str,
    pub kind: MessageKind,
}

pub static MESSAGE_TYPES: &[MessageTypeInfo] = &[
    MessageTypeInfo {
        number: 1000,
        name: "GET",
        kind: MessageKind::Control,
    },
    MessageTypeInfo {
        number: 1001,
        name: "SET",
        kind: MessageKind::Control,
    },
    MessageTypeInfo {
        number: 1300,
        name: "SYSCALL",
        kind: MessageKind::KernelEvent,
    },
];

/// Kind by the ranges of include/uapi/linux/audit.h.
pub fn message_type_kind(number: u16) -> MessageKind {
    match number {
        1000..=1099 => MessageKind::Control,
        1100..=1199 | 2100..=2999 => MessageKind::UserMessage,
        _ => MessageKind::KernelEvent,
    }
}

pub fn message_type_name(number: u16) -> Option<&'static str> {
    MESSAGE_TYPES
        .iter()
        .find(|t| t.number == number)
        .map(|t| t.name)
}

pub fn message_type_by_name(name: &str) -> Option<u16> {
    MESSAGE_TYPES
        .iter()
        .find(|t| t.name == name)
        .map(|t| t.number)
}
