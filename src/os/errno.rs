//! errno values by name, both ways: "mmap failed: ENOMEM" reads better than an errno number,
//! and test hooks name the errno they inject.

/// The errno names iobench's messages and test hooks use.
const NAMES: [(i32, &str); 10] = [
    (libc::EPERM, "EPERM"),
    (libc::ENOSYS, "ENOSYS"),
    (libc::ENOMEM, "ENOMEM"),
    (libc::EINVAL, "EINVAL"),
    (libc::EACCES, "EACCES"),
    (libc::ENODEV, "ENODEV"),
    (libc::EOVERFLOW, "EOVERFLOW"),
    (libc::EFBIG, "EFBIG"),
    (libc::ENOSPC, "ENOSPC"),
    (libc::EOPNOTSUPP, "EOPNOTSUPP"),
];

/// `ENOMEM` for an error carrying that errno; `None` for other errors.
pub(crate) fn name(e: &std::io::Error) -> Option<&'static str> {
    let code = e.raw_os_error()?;
    NAMES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The errno called `name` (`"ENOMEM"`).
pub(crate) fn by_name(name: &str) -> Option<i32> {
    NAMES.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_go_both_ways() {
        let e = std::io::Error::from_raw_os_error(libc::ENOMEM);
        assert_eq!(super::name(&e), Some("ENOMEM"));
        assert_eq!(super::by_name("EINVAL"), Some(libc::EINVAL));
        assert_eq!(super::name(&std::io::Error::other("x")), None);
    }
}
