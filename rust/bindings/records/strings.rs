//! Text between the core and Python: bytes to str (surrogateescape) and back, the interned field-name cache, per-object lazy values.

use super::*;

/// bytes -> str in one pass: UTF-8, with bytes that are not valid UTF-8
/// decoded as lone surrogates ("surrogateescape"), so nothing is lost.
pub(super) fn py_str<'py>(py: Python<'py>, b: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let len = isize::try_from(b.len()).map_err(|_| PyValueError::new_err("string too long"))?;
    // SAFETY: `b` is valid for reads of `len` bytes during the call, the error
    // handler name is a NUL-terminated static string, and the result is a new
    // reference or NULL with an exception set (both handled by from_owned_ptr_or_err).
    unsafe {
        let p =
            pyo3::ffi::PyUnicode_DecodeUTF8(b.as_ptr().cast(), len, c"surrogateescape".as_ptr());
        Bound::from_owned_ptr_or_err(py, p)
    }
}

/// str -> the bytes it stands for: UTF-8, with lone surrogates (what
/// [`py_str`] makes of bytes that are not UTF-8) turned back into those bytes.
pub(super) fn str_bytes<'a>(s: &'a Bound<'_, PyString>) -> PyResult<std::borrow::Cow<'a, [u8]>> {
    use std::borrow::Cow;
    match s.to_cow() {
        Ok(Cow::Borrowed(b)) => Ok(Cow::Borrowed(b.as_bytes())),
        Ok(Cow::Owned(o)) => Ok(Cow::Owned(o.into_bytes())),
        Err(_) => {
            let b = s.call_method1(
                pyo3::intern!(s.py(), "encode"),
                ("utf-8", "surrogateescape"),
            )?;
            Ok(Cow::Owned(b.cast::<PyBytes>()?.as_bytes().to_vec()))
        }
    }
}

/// FNV-1a: field names are short; SipHash's DoS resistance buys nothing here
/// (the cache is bounded and keyed by names the kernel writes).
#[derive(Default)]
pub(super) struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &c in bytes {
            h = (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Field names repeat endlessly ("pid", "uid", ...): one shared, interned str
/// per name. Names of up to 16 ASCII bytes (nearly all) sit in a direct-mapped
/// table keyed by their bytes; longer ones in a bounded map.
pub(super) struct NameCache {
    pub(super) slots: Vec<Option<(u64, u64, Py<PyString>)>>,
    pub(super) long:
        std::collections::HashMap<Box<[u8]>, Py<PyString>, std::hash::BuildHasherDefault<Fnv>>,
}

pub(super) const NAME_SLOTS: usize = 1024;
pub(super) const LONG_NAMES_MAX: usize = 4096;

impl NameCache {
    pub(super) fn new() -> NameCache {
        NameCache {
            slots: (0..NAME_SLOTS).map(|_| None).collect(),
            long: Default::default(),
        }
    }
}

pub(super) static NAMES: PyOnceLock<Mutex<NameCache>> = PyOnceLock::new();

/// The name cache, locked once for a whole record. `None` when another call
/// holds it (then names are made uncached: never wait, never deadlock).
pub(super) fn name_cache(py: Python<'_>) -> Option<std::sync::MutexGuard<'static, NameCache>> {
    match NAMES
        .get_or_init(py, || Mutex::new(NameCache::new()))
        .try_lock()
    {
        Ok(g) => Some(g),
        Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

pub(super) fn py_name_in<'py>(
    py: Python<'py>,
    cache: Option<&mut NameCache>,
    b: &[u8],
) -> PyResult<Bound<'py, PyAny>> {
    let Some(cache) = cache.filter(|_| b.len() <= 32 && b.is_ascii()) else {
        return py_str(py, b);
    };
    if b.len() <= 16 {
        // The key: the name's bytes, zero padded (names hold no NUL), and its length.
        let mut k = [0u8; 16];
        k[..b.len()].copy_from_slice(b);
        let (mut k0, mut k1) = ([0u8; 8], [0u8; 8]);
        k0.copy_from_slice(&k[..8]);
        k1.copy_from_slice(&k[8..]);
        let (k0, k1) = (
            u64::from_le_bytes(k0),
            u64::from_le_bytes(k1) ^ (b.len() as u64) << 59,
        );
        let h = (k0 ^ k1.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let i = (h >> 54) as usize % NAME_SLOTS;
        if let Some(Some((a, c, s))) = cache.slots.get(i) {
            if *a == k0 && *c == k1 {
                return Ok(s.bind(py).clone().into_any());
            }
        }
        let s = PyString::intern(py, std::str::from_utf8(b).unwrap_or_default());
        if let Some(slot) = cache.slots.get_mut(i) {
            *slot = Some((k0, k1, s.clone().unbind()));
        }
        return Ok(s.into_any());
    }
    if let Some(s) = cache.long.get(b) {
        return Ok(s.bind(py).clone().into_any());
    }
    let s = PyString::intern(py, std::str::from_utf8(b).unwrap_or_default());
    if cache.long.len() < LONG_NAMES_MAX {
        cache.long.insert(b.into(), s.clone().unbind());
    }
    Ok(s.into_any())
}

/// A value made on first use and kept: `OnceLock` filled with `set` only, so
/// making the value (which runs Python code) never happens under the cell's
/// lock — two threads may both make it, the first to store it wins. Cheaper
/// than `PyOnceLock` for the per-object caches made once per record.
pub(super) struct Lazy<T>(std::sync::OnceLock<T>);

impl<T> Lazy<T> {
    pub(super) const fn new() -> Lazy<T> {
        Lazy(std::sync::OnceLock::new())
    }
    pub(super) fn get(&self) -> Option<&T> {
        self.0.get()
    }
    pub(super) fn get_or_try_make(&self, make: impl FnOnce() -> PyResult<T>) -> PyResult<&T> {
        if let Some(v) = self.0.get() {
            return Ok(v);
        }
        let _ = self.0.set(make()?);
        self.0
            .get()
            .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("lazy value lost"))
    }
}
