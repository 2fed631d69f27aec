//! The embedded store's file and directory must be private to the user running aws-jit:
//! whoever else can write either can replace, rewrite or delete the store (a deleted file
//! is recreated empty, forgetting every grant it tracks). Checked on every open.
//!
//! TOCTOU: the directory is checked first; once nobody else can write it, nobody else can
//! swap the file (or plant a symlink) between these checks and SQLite opening it, which
//! is also told not to follow a symlink (`SQLITE_OPEN_NOFOLLOW`). Directories above the
//! store's own are not checked.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::StoreError;

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn unsafe_store(path: &Path, problem: String, fix: String) -> StoreError {
    StoreError::Unsafe {
        what: format!("embedded store {}: {problem}", path.display()),
        fix,
    }
}

/// The directory holding the store: owned by this user (or root, who can do anything
/// anyway), writable by nobody else. A sticky world-writable directory (/tmp) is refused
/// too: others could plant the store's journal files there.
pub fn check_dir(dir: &Path) -> Result<(), StoreError> {
    let m = std::fs::metadata(dir).map_err(|e| {
        unsafe_store(
            dir,
            format!("its directory cannot be read ({e})"),
            "set JIT_STATE_DIR to a directory of your own".into(),
        )
    })?;
    let me = euid();
    if m.uid() != me && m.uid() != 0 {
        return Err(unsafe_store(
            dir,
            format!(
                "the directory is owned by uid {}, not by you (uid {me})",
                m.uid()
            ),
            format!(
                "run `chown {me} {}` or set JIT_STATE_DIR to a directory of your own",
                dir.display()
            ),
        ));
    }
    let mode = m.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(unsafe_store(
            dir,
            format!("the directory is writable by others (mode {mode:o})"),
            format!("run `chmod 700 {}`", dir.display()),
        ));
    }
    Ok(())
}

/// An existing store file (or one of SQLite's `-wal`/`-shm` files beside it): a regular
/// file, not a symlink, owned by this user and writable by nobody else. Readable by
/// others is fixed to 0600 (it is ours, and records name people and their access).
pub fn check_file(path: &Path) -> Result<(), StoreError> {
    let m = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(unsafe_store(
                path,
                format!("it cannot be read ({e})"),
                "check the file".into(),
            ))
        }
    };
    if m.file_type().is_symlink() {
        return Err(unsafe_store(
            path,
            "it is a symbolic link".into(),
            format!(
                "replace it with the file itself (`mv` the target to {}) or set JIT_STATE_DIR to where the file is",
                path.display()
            ),
        ));
    }
    if !m.file_type().is_file() {
        return Err(unsafe_store(
            path,
            "it is not a regular file".into(),
            "move it away".into(),
        ));
    }
    let me = euid();
    if m.uid() != me {
        return Err(unsafe_store(
            path,
            format!("it is owned by uid {}, not by you (uid {me})", m.uid()),
            format!(
                "run `chown {me} {}` if its contents are trusted, or restore it from a backup",
                path.display()
            ),
        ));
    }
    let mode = m.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(unsafe_store(
            path,
            format!("it is writable by others (mode {mode:o}), who may have rewritten it"),
            format!(
                "check its contents, then run `chmod 600 {}`",
                path.display()
            ),
        ));
    }
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
            unsafe_store(
                path,
                format!(
                    "it is readable by others (mode {mode:o}) and could not be made private ({e})"
                ),
                format!("run `chmod 600 {}`", path.display()),
            )
        })?;
    }
    Ok(())
}

/// The store file and the journal files SQLite keeps beside it.
pub fn check_files(path: &Path) -> Result<(), StoreError> {
    check_file(path)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        check_file(Path::new(&name))?;
    }
    Ok(())
}
