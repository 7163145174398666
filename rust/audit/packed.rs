//! Byte strings packed one after the other in one buffer that is reused from batch to batch.

/// Byte strings written one after the other; string `i` ends at `ends[i]`.
/// `clear` keeps the memory, so a batch after the first allocates nothing.
#[derive(Debug, Default, Clone)]
pub struct Packed {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Packed {
    /// Empty, with room for `strings` strings of `bytes` bytes in all.
    pub fn with_capacity(bytes: usize, strings: usize) -> Packed {
        Packed {
            bytes: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(strings),
        }
    }

    /// The strings' bytes in all.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

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
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> {
        // Every index below the count has its string.
        (0..self.ends.len()).map(|i| self.get(i).unwrap_or_default())
    }

    /// The `i`-th string.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = i.checked_sub(1).map_or(0, |j| self.ends[j]);
        self.bytes.get(start..end)
    }

    /// How many strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
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
        assert_eq!((p.len(), p.byte_len()), (3, 5));
        let room = Packed::with_capacity(5, 3);
        assert!(room.is_empty() && room.bytes.capacity() >= 5 && room.ends.capacity() >= 3);
        p.clear();
        assert_eq!(p.iter().count(), 0);
        assert!(p.is_empty());
    }
}
