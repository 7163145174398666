//! `struct audit_status` (include/uapi/linux/audit.h): the AUDIT_GET reply and
//! the AUDIT_SET request. Eleven host-endian u32s; older kernels send a prefix:
//!
//! ```text
//! off  field                      since
//!  0   mask                       -
//!  4   enabled                    -
//!  8   failure                    -
//! 12   pid                        -
//! 16   rate_limit                 -
//! 20   backlog_limit              -
//! 24   lost                       -
//! 28   backlog                    -            (32 bytes: the original layout)
//! 32   feature_bitmap / version   2.6.x        (36 bytes)
//! 36   backlog_wait_time          3.14         (40 bytes)
//! 40   backlog_wait_time_actual   5.9          (44 bytes)
//! ```

use crate::error::{Error, Result};

// Mask bits (AUDIT_STATUS_*).
pub const STATUS_ENABLED: u32 = 0x0001;
pub const STATUS_FAILURE: u32 = 0x0002;
pub const STATUS_PID: u32 = 0x0004;
pub const STATUS_RATE_LIMIT: u32 = 0x0008;
pub const STATUS_BACKLOG_LIMIT: u32 = 0x0010;
pub const STATUS_BACKLOG_WAIT_TIME: u32 = 0x0020;
pub const STATUS_LOST: u32 = 0x0040;
pub const STATUS_BACKLOG_WAIT_TIME_ACTUAL: u32 = 0x0080;

/// Size of the newest layout.
pub const STATUS_SIZE: usize = 44;
/// Size of the oldest layout a kernel sends.
pub const STATUS_MIN_SIZE: usize = 32;

/// The kernel's audit status. Fields missing from an older kernel's reply are 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AuditStatus {
    pub mask: u32,
    pub enabled: u32,
    pub failure: u32,
    pub pid: u32,
    pub rate_limit: u32,
    pub backlog_limit: u32,
    pub lost: u32,
    pub backlog: u32,
    pub feature_bitmap: u32,
    pub backlog_wait_time: u32,
    pub backlog_wait_time_actual: u32,
}

impl AuditStatus {
    /// Decode a status of at least 32 bytes, in whole 4-byte fields. Fields a
    /// shorter (older) layout lacks are 0; bytes past the 44 known here
    /// (fields a newer kernel appended) are ignored.
    pub fn from_bytes(buf: &[u8]) -> Result<Self> {
        if buf.len() < STATUS_MIN_SIZE || buf.len() % 4 != 0 {
            return Err(Error::Malformed(format!(
                "audit_status must be at least 32 bytes and a multiple of 4, got {}",
                buf.len()
            )));
        }
        let mut words = [0u32; 11];
        for (word, chunk) in words.iter_mut().zip(buf.chunks_exact(4)) {
            *word = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        Ok(Self::from_words(words))
    }

    /// The eleven fields in wire order.
    pub fn to_words(&self) -> [u32; 11] {
        [
            self.mask,
            self.enabled,
            self.failure,
            self.pid,
            self.rate_limit,
            self.backlog_limit,
            self.lost,
            self.backlog,
            self.feature_bitmap,
            self.backlog_wait_time,
            self.backlog_wait_time_actual,
        ]
    }

    /// Build from the eleven fields in wire order.
    pub fn from_words(words: [u32; 11]) -> Self {
        let [mask, enabled, failure, pid, rate_limit, backlog_limit, lost, backlog, feature_bitmap, backlog_wait_time, backlog_wait_time_actual] =
            words;
        AuditStatus {
            mask,
            enabled,
            failure,
            pid,
            rate_limit,
            backlog_limit,
            lost,
            backlog,
            feature_bitmap,
            backlog_wait_time,
            backlog_wait_time_actual,
        }
    }

    /// The 44-byte newest layout, host byte order.
    pub fn to_bytes(&self) -> [u8; STATUS_SIZE] {
        let mut out = [0u8; STATUS_SIZE];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.to_words()) {
            chunk.copy_from_slice(&word.to_ne_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn old_layouts_fill_zero() {
        let full = AuditStatus {
            mask: 1,
            enabled: 1,
            failure: 1,
            pid: 42,
            rate_limit: 5,
            backlog_limit: 64,
            lost: 3,
            backlog: 2,
            feature_bitmap: 0x7f,
            backlog_wait_time: 15000,
            backlog_wait_time_actual: 9,
        };
        let b = full.to_bytes();
        let s32 = AuditStatus::from_bytes(&b[..32]).unwrap();
        assert_eq!(s32.backlog, 2);
        assert_eq!(
            (
                s32.feature_bitmap,
                s32.backlog_wait_time,
                s32.backlog_wait_time_actual
            ),
            (0, 0, 0)
        );
        let s40 = AuditStatus::from_bytes(&b[..40]).unwrap();
        assert_eq!(
            (s40.backlog_wait_time, s40.backlog_wait_time_actual),
            (15000, 0)
        );
        assert_eq!(AuditStatus::from_bytes(&b).unwrap(), full);
        let mut longer = b.to_vec();
        longer.extend_from_slice(&[0xff; 8]);
        assert_eq!(AuditStatus::from_bytes(&longer).unwrap(), full);
    }

    #[test]
    fn golden_little_endian() {
        if cfg!(target_endian = "little") {
            let s = AuditStatus {
                mask: STATUS_PID,
                pid: 0x0102_0304,
                ..Default::default()
            };
            let b = s.to_bytes();
            assert_eq!(&b[0..4], &[4, 0, 0, 0]);
            assert_eq!(&b[12..16], &[4, 3, 2, 1]);
            assert!(b[16..].iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn bad_sizes() {
        for n in [0usize, 4, 28, 31, 33, 42, 45, 47] {
            assert!(AuditStatus::from_bytes(&vec![0u8; n]).is_err(), "{n}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(w in proptest::array::uniform11(any::<u32>())) {
            let s = AuditStatus::from_bytes(&w.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<_>>()).unwrap();
            prop_assert_eq!(AuditStatus::from_bytes(&s.to_bytes()).unwrap(), s);
        }

        #[test]
        fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = AuditStatus::from_bytes(&b);
        }
    }
}
