//! Strings across the boundary: reading the caller's, handing out ours,
//! and [`anist_string_free`].

use std::ffi::{c_char, CStr, CString};

use crate::error::{guard_void, Failure};

/// Reads the NUL-terminated UTF-8 argument `name`; NULL is an error.
pub(crate) fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    opt_str(ptr, name)?.ok_or_else(|| Failure::null(name))
}

/// Reads the NUL-terminated UTF-8 argument `name`; NULL is `None`.
pub(crate) fn opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller promises a non-NULL `ptr` points to a
    // NUL-terminated string that stays valid during the call.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str()
        .map(Some)
        .map_err(|_| Failure::invalid(name, "it is not UTF-8 text"))
}

/// Reads the argument `name` as raw bytes (for inputs that need not be
/// UTF-8, like a code read from a legacy file); NULL is an error.
pub(crate) fn arg_bytes<'a>(ptr: *const c_char, name: &str) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: as in `opt_str`.
    Ok(unsafe { CStr::from_ptr(ptr) }.to_bytes())
}

/// A string for C, to be freed with [`anist_string_free`]. Interior NULs
/// (never produced by the library's own values) are dropped.
pub(crate) fn c_string(s: &str) -> *mut c_char {
    let owned =
        CString::new(s).unwrap_or_else(|_| CString::new(s.replace('\0', "")).unwrap_or_default());
    owned.into_raw()
}

/// Checks that the out-param `name` is not NULL.
pub(crate) fn out_ptr<T>(ptr: *mut T, name: &str) -> Result<(), Failure> {
    if ptr.is_null() {
        Err(Failure::null(name))
    } else {
        Ok(())
    }
}

/// Writes `value` through the out-param `ptr` (checked non-NULL before).
pub(crate) fn write_out<T>(ptr: *mut T, value: T) {
    if !ptr.is_null() {
        // SAFETY: the caller promises a non-NULL out-param points to
        // writable memory for a `T`; `write` does not read (nor drop) the
        // old, possibly uninitialised, value.
        unsafe { ptr.write(value) };
    }
}

/// Frees the library-made strings of a caller-owned record (`record`:
/// its string fields, picked by `fields`) and sets them to NULL: the body
/// of every `anist_*_clear`. NULL `record` is allowed; clearing twice is
/// harmless.
pub(crate) fn clear_strings<T, const N: usize>(
    record: *mut T,
    fields: impl FnOnce(&mut T) -> [&mut *mut c_char; N],
) {
    if record.is_null() {
        return;
    }
    // SAFETY: the caller promises a non-NULL `record` points to a record
    // filled by the library (its strings made by `c_string`) or zeroed,
    // not used elsewhere during the call.
    let record = unsafe { &mut *record };
    for field in fields(record) {
        crate::anist_string_free(std::mem::replace(field, std::ptr::null_mut()));
    }
}

/// Copies ASCII `s` into a fixed `[c_char; N]` field, NUL-terminated
/// (truncated to `N - 1` bytes).
pub(crate) fn fixed<const N: usize>(s: &str) -> [c_char; N] {
    let mut out = [0 as c_char; N];
    for (slot, b) in out.iter_mut().zip(s.bytes().take(N.saturating_sub(1))) {
        *slot = b as c_char;
    }
    out
}

/// Takes back ownership of a handle the library gave out with
/// `Box::into_raw` (NULL: `None`).
pub(crate) fn take_box<T>(ptr: *mut T) -> Option<Box<T>> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: every handle given to C was made by `Box::into_raw` for this
    // `T`, and the caller hands it back exactly once (the `*_free`
    // contract).
    Some(unsafe { Box::from_raw(ptr) })
}

fn take_c_string(s: *mut c_char) -> Option<CString> {
    if s.is_null() {
        return None;
    }
    // SAFETY: `s` was made by `CString::into_raw` in `c_string`, and the
    // caller hands it back exactly once (the `anist_string_free` contract).
    Some(unsafe { CString::from_raw(s) })
}

/// Frees a string returned by the library. NULL is allowed (nothing
/// happens). Never pass a string that did not come from libanist, and
/// never free one twice.
#[no_mangle]
pub extern "C" fn anist_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    guard_void(move || drop(take_c_string(s)));
}
