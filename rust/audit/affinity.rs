//! Keeping a helper thread off the CPU of the thread it works for.
//!
//! A new thread, or a woken one, can be queued on the CPU of the thread that
//! made it runnable. When that thread spends its time inside system calls
//! (sending rules: the kernel's work runs in `sendto`), the two then take
//! turns on one CPU while another sits idle: traced on this project's VM, a
//! rules load's parsing thread preempted the sending thread on creation and
//! ran its whole 1 ms there, with the second CPU idle throughout.

use rustix::thread::{sched_getaffinity, sched_getcpu, sched_setaffinity, CpuSet};

/// The CPU the calling thread runs on now.
pub fn current_cpu() -> usize {
    sched_getcpu()
}

/// Let the calling thread run on every CPU it may use except `cpu`. Nothing
/// changes when `cpu` is the only one (or not one of them), nor on error:
/// this is a placement hint, never a failure.
pub fn avoid_cpu(cpu: usize) {
    let Ok(mut set) = sched_getaffinity(None) else {
        return;
    };
    if cpu >= CpuSet::MAX_CPU || !set.is_set(cpu) || set.count() < 2 {
        return;
    }
    set.unset(cpu);
    let _ = sched_setaffinity(None, &set);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_moves_off_the_cpu_when_it_has_another() {
        let allowed = sched_getaffinity(None).unwrap();
        let here = current_cpu();
        let after = std::thread::spawn(move || {
            avoid_cpu(here);
            (sched_getaffinity(None).unwrap(), current_cpu())
        })
        .join()
        .unwrap();
        if allowed.count() >= 2 {
            assert!(!after.0.is_set(here));
            assert_ne!(after.1, here);
            assert_eq!(after.0.count() + 1, allowed.count());
        } else {
            assert_eq!(after.0, allowed);
        }
        // The caller's own mask is untouched.
        assert_eq!(sched_getaffinity(None).unwrap(), allowed);
    }

    #[test]
    fn a_cpu_outside_the_mask_changes_nothing() {
        let allowed = sched_getaffinity(None).unwrap();
        avoid_cpu(CpuSet::MAX_CPU + 5);
        assert_eq!(sched_getaffinity(None).unwrap(), allowed);
    }
}
