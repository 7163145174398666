//! Keeping a helper thread off the CPU of the thread it works for.
//!
//! A new thread can be queued on the CPU of the thread that created it. When
//! that thread spends its time inside system calls (sending rules: the
//! kernel's work runs in `sendto`), the two then take turns on one CPU while
//! another sits idle: traced on this project's VM, a rules load's parsing
//! thread waited 0.27 ms on the sending thread's CPU before it first ran,
//! with the second CPU idle throughout. So the creating thread moves the new
//! one before it ever runs ([`keep_off`]).
//!
//! Also a thread's own priority ([`set_this_thread_nice`]): the daemon's
//! reader is raised (auditd's `priority_boost`), a sink's delivering thread
//! lowered (its `nice` key), so the audited workload gets the CPU first.

use std::os::unix::thread::JoinHandleExt;

use rustix::thread::{sched_getaffinity, sched_getcpu, CpuSet};

/// The CPU the calling thread runs on now.
pub fn current_cpu() -> usize {
    sched_getcpu()
}

/// The calling thread's CPUs without `cpu`; None when that would leave
/// none, or `cpu` is not one of them.
fn all_but(cpu: usize) -> Option<CpuSet> {
    let mut set = sched_getaffinity(None).ok()?;
    if cpu >= CpuSet::MAX_CPU || !set.is_set(cpu) || set.count() < 2 {
        return None;
    }
    set.unset(cpu);
    Some(set)
}

/// Let the thread of `handle`, just spawned by the calling thread, run on
/// every CPU the calling thread may use except `cpu`. Nothing changes when
/// `cpu` is the only one (or not one of them), nor on error: this is a
/// placement hint, never a failure.
pub fn keep_off<T>(handle: &std::thread::JoinHandle<T>, cpu: usize) {
    let Some(set) = all_but(cpu) else {
        return;
    };
    // SAFETY: an all-zero cpu_set_t is the empty set; CPU_SET writes inside
    // it for every index below CpuSet::MAX_CPU (= CPU_SETSIZE). The handle's
    // thread is not joined (we borrow its handle), so its pthread_t is
    // valid; the mask is a whole cpu_set_t of the size given.
    unsafe {
        let mut mask: libc::cpu_set_t = std::mem::zeroed();
        for i in (0..CpuSet::MAX_CPU).filter(|&i| set.is_set(i)) {
            libc::CPU_SET(i, &mut mask);
        }
        libc::pthread_setaffinity_np(
            handle.as_pthread_t(),
            std::mem::size_of::<libc::cpu_set_t>(),
            &mask,
        );
    }
}

/// Set the calling thread's nice value (-20..=19; Linux keeps one per
/// thread, and threads it creates inherit it). Best effort: going below the
/// current value needs CAP_SYS_NICE, and a refusal changes nothing.
pub fn set_this_thread_nice(nice: i32) {
    let tid = rustix::thread::gettid().as_raw_nonzero().get();
    // SAFETY: setpriority on this thread's id; no memory is involved.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice.clamp(-20, 19)) };
}

/// The calling thread's nice value (the tests check `set_this_thread_nice`).
#[cfg(test)]
pub fn this_thread_nice() -> i32 {
    let tid = rustix::thread::gettid().as_raw_nonzero().get();
    // SAFETY: as above; -1 is a valid answer, errno is not looked at (a
    // thread can always read its own priority).
    unsafe { libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spawn a thread held at a channel, apply `keep_off(cpu)`, and return
    /// its mask and CPU once it runs.
    fn spawned_after_keep_off(cpu: usize) -> (CpuSet, usize) {
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            wait.recv().unwrap();
            (sched_getaffinity(None).unwrap(), current_cpu())
        });
        keep_off(&handle, cpu);
        go.send(()).unwrap();
        handle.join().unwrap()
    }

    #[test]
    fn a_new_thread_runs_off_its_creators_cpu() {
        let allowed = sched_getaffinity(None).unwrap();
        let here = current_cpu();
        let (mask, cpu) = spawned_after_keep_off(here);
        if allowed.count() >= 2 {
            assert!(!mask.is_set(here));
            assert_ne!(cpu, here);
            assert_eq!(mask.count() + 1, allowed.count());
        } else {
            assert_eq!(mask, allowed);
        }
        // The creator's own mask is untouched.
        assert_eq!(sched_getaffinity(None).unwrap(), allowed);
    }

    #[test]
    fn a_thread_sets_its_own_nice_value_only() {
        let before = this_thread_nice();
        let got = std::thread::spawn(|| {
            set_this_thread_nice(17);
            // A thread it creates inherits it.
            let child = std::thread::spawn(this_thread_nice).join().unwrap();
            (this_thread_nice(), child)
        })
        .join()
        .unwrap();
        assert_eq!(got, (17, 17));
        assert_eq!(this_thread_nice(), before);
    }

    #[test]
    fn a_cpu_outside_the_mask_changes_nothing() {
        let allowed = sched_getaffinity(None).unwrap();
        let (mask, _) = spawned_after_keep_off(CpuSet::MAX_CPU + 5);
        assert_eq!(mask, allowed);
    }
}
