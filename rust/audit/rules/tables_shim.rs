//! The lookups the rule codec needs, on top of the shared tables
//! (`crate::audit::tables`, generated from libaudit 3.0.9), keyed by
//! `AUDIT_ARCH_*` values the way rule fields carry machines.

use crate::audit::tables::{self, Machine};

fn machine(arch: u32) -> Option<Machine> {
    tables::machine_for_audit_arch(arch)
}

pub fn machine_arch(name: &str) -> Option<u32> {
    tables::machine_by_name(name).map(tables::audit_arch_for_machine)
}

pub fn arch_is_known(arch: u32) -> bool {
    machine(arch).is_some()
}

pub fn arch_32bit_of(arch: u32) -> Option<u32> {
    let m = machine(arch)?;
    if !m.is_64bit() {
        return None;
    }
    tables::machine_for_bits(m, 32)
        .filter(|b32| *b32 != m)
        .map(tables::audit_arch_for_machine)
}

pub fn syscall_number(arch: u32, name: &str) -> Option<u32> {
    tables::syscall_number(machine(arch)?, name)
}

pub fn syscall_name(arch: u32, nr: u32) -> Option<&'static str> {
    tables::syscall_name(machine(arch)?, nr)
}

pub fn errno_number(name: &str) -> Option<u32> {
    tables::errno_number(name).and_then(|n| u32::try_from(n).ok())
}

pub fn errno_name(nr: u32) -> Option<&'static str> {
    tables::errno_name(i32::try_from(nr).ok()?)
}

pub fn msgtype_number(name: &str) -> Option<u32> {
    tables::message_type_by_name(name).map(u32::from)
}

/// libaudit's name (auditctl -l prints numbers libaudit cannot name).
pub fn msgtype_name(nr: u32) -> Option<&'static str> {
    tables::libaudit_message_type_name(u16::try_from(nr).ok()?)
}
