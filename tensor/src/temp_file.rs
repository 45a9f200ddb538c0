//! Temporary files beside a target, for writes that end in a rename over it: a name unique to
//! each write, and the clean-up of temporaries whose writer died before its rename.
//!
//! Checkpoints (strata-modules) and downloads (strata-datasets) both write this way; the
//! naming lives here, in the crate both depend on, so that each recognises the other's
//! leftovers by the same rule.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes started by this process, numbering its temporaries.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// Extension of every temporary named here.
const EXTENSION: &str = "tmp";

/// A path in the folder of `target` for one write to it, `.{name}.{pid}-{n}.tmp`: unique among
/// running processes (pid) and among the writes of this one (n counts them), hidden on Unix.
///
/// ```
/// use std::path::Path;
/// use strata_tensor::temp_file::temp_path_for;
/// let a = temp_path_for(Path::new("runs/model.ckpt")).unwrap();
/// let b = temp_path_for(Path::new("runs/model.ckpt")).unwrap();
/// assert_ne!(a, b);
/// let name = a.file_name().unwrap().to_str().unwrap();
/// assert!(name.starts_with(&format!(".model.ckpt.{}-", std::process::id())));
/// ```
pub fn temp_path_for(target: &Path) -> io::Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", target.display()),
        )
    })?;
    let write = WRITES.fetch_add(1, Ordering::Relaxed);
    Ok(target.with_file_name(format!(
        ".{}.{}-{write}.{EXTENSION}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Removes the temporaries of `target` (files or folders named by [`temp_path_for`]) whose
/// writing process no longer runs, and returns their paths. Temporaries of running processes,
/// this one's included, are kept: a concurrent write is never disturbed.
///
/// A process is looked up by its id on this machine (`kill(pid, 0)` on Unix). So an id
/// reused by a new process keeps a leftover until that one exits, a killed writer not yet
/// reaped by its parent (a zombie) still counts as running, and on other systems nothing is
/// removed. A writer on another machine sharing the folder is not seen: its temporary may be
/// removed, and its rename then fails with an error rather than writing anything partial.
pub fn remove_stale_temps(target: &Path) -> io::Result<Vec<PathBuf>> {
    let Some(name) = target.file_name() else {
        return Ok(Vec::new());
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let folder = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(writer) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(writer_pid)
        else {
            continue;
        };
        if process_is_running(writer) {
            continue;
        }
        let path = entry.path();
        let outcome = if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match outcome {
            Ok(()) => removed.push(path),
            // Another clean-up got there first.
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(removed)
}

/// The process id in the tail `{pid}-{n}.tmp` of a temporary's name, if it is one.
fn writer_pid(tail: &str) -> Option<u32> {
    let (pid, write) = tail
        .strip_suffix(EXTENSION)?
        .strip_suffix('.')?
        .split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(pid) || !digits(write) {
        return None;
    }
    pid.parse().ok()
}

/// Whether a process with this id runs on this machine.
#[cfg(unix)]
fn process_is_running(pid: u32) -> bool {
    // Ids 0 and above i32::MAX would address process groups (or all processes) in `kill`;
    // no writer has them, so treat them as running: nothing to remove.
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    if pid <= 0 {
        return true;
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled; nothing is
    // sent and no memory is involved.
    let status = unsafe { libc::kill(pid, 0) };
    // EPERM: it exists but belongs to another user.
    status == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Without a portable way to look a process up, every writer counts as running.
#[cfg(not(unix))]
fn process_is_running(_pid: u32) -> bool {
    true
}
