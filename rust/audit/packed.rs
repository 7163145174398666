//! Byte strings packed one after the other in one buffer that is reused from batch to batch.

/// Byte strings written one after the other; string `i` ends at `ends[i]`.
/// `clear` keeps the memory, so a batch after the first allocates nothing.
#[derive(Debug, Default, Clone)]
pub struct Packed {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Packed {
    /// Add one string written by `write`, which appends it to the buffer.
    pub fn push(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.bytes);
        self.ends.push(self.bytes.len());
    }

    /// [`push`](Self::push) with a `write` that may fail; on an error nothing
    /// is added, provided `write` appended nothing then.
    pub fn try_push<E>(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        write(&mut self.bytes)?;
        self.ends.push(self.bytes.len());
        Ok(())
    }

    /// The strings, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.ends.len()).filter_map(|i| self.get(i))
    }

    /// The `i`-th string.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = i.checked_sub(1).map_or(0, |j| self.ends[j]);
        self.bytes.get(start..end)
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Packed;

    #[test]
    fn strings_come_back_in_order_and_errors_add_nothing() {
        let mut p = Packed::default();
        p.push(|b| b.extend_from_slice(b"ab"));
        p.push(|_| {});
        assert!(p.try_push(|_| Err("no")).is_err());
        p.try_push(|b| {
            b.extend_from_slice(b"cde");
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(p.iter().collect::<Vec<_>>(), [&b"ab"[..], b"", b"cde"]);
        assert_eq!(
            (p.get(0), p.get(1), p.get(2)),
            (Some(&b"ab"[..]), Some(&b""[..]), Some(&b"cde"[..]))
        );
        assert_eq!(p.get(3), None);
        p.clear();
        assert_eq!(p.iter().count(), 0);
    }
}
