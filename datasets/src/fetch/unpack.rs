//! Unpacking the listed members of a verified gzip tarball, checking each member's size.
//!
//! Only members named in the [`Archive`] are written, under names this code builds, so a
//! hostile path inside the tarball can never write outside the cache folder.

use super::table::Archive;
use crate::error::{DataError, DataResult};
use std::fs::File;
use std::path::{Path, PathBuf};
use strata_tensor::temp_file::temp_path_for;

/// Whether `dir` holds every member of `archive` with its exact size.
pub(super) fn is_unpacked(dir: &Path, archive: &Archive) -> bool {
    archive.members.iter().all(|(name, size)| {
        std::fs::metadata(dir.join(name)).is_ok_and(|meta| meta.is_file() && meta.len() == *size)
    })
}

/// Extracts the members of `archive` from the gzip tarball `tarball` into `dataset_dir/folder`
/// (through a temporary folder renamed into place); returns that folder.
pub(super) fn unpack(tarball: &Path, archive: &Archive, dataset_dir: &Path) -> DataResult<PathBuf> {
    let source_name = tarball.display().to_string();
    let final_dir = dataset_dir.join(&archive.folder);
    super::remove_stale_temps(&final_dir);
    let temp_dir = temp_path_for(&final_dir)
        .map_err(|err| DataError::io(&final_dir, "naming a temporary for", err))?;
    let result = extract_members(tarball, archive, &temp_dir, &source_name).and_then(|()| {
        if final_dir.exists() {
            std::fs::remove_dir_all(&final_dir)
                .map_err(|err| DataError::io(&final_dir, "replacing", err))?;
        }
        std::fs::rename(&temp_dir, &final_dir)
            .map_err(|err| DataError::io(&final_dir, "renaming into", err))
    });
    if result.is_err() {
        // Leave nothing half-written behind; the error already says what failed.
        let _ = std::fs::remove_dir_all(&temp_dir);
    }
    result.map(|()| final_dir)
}

fn extract_members(
    tarball: &Path,
    archive: &Archive,
    out_dir: &Path,
    source_name: &str,
) -> DataResult<()> {
    let damaged = |err: std::io::Error| {
        DataError::format(
            source_name,
            "a readable gzip tarball",
            format!("a damaged one ({err})"),
        )
    };
    std::fs::create_dir_all(out_dir).map_err(|err| DataError::io(out_dir, "creating", err))?;
    let file = File::open(tarball).map_err(|err| DataError::io(tarball, "opening", err))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut found = vec![false; archive.members.len()];
    for entry in tar.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let path = entry.path().map_err(damaged)?.into_owned();
        let Some(k) = archive
            .members
            .iter()
            .position(|(name, _)| path == Path::new(&archive.folder).join(name))
        else {
            continue;
        };
        let (name, size) = &archive.members[k];
        if entry.size() != *size {
            return Err(DataError::format(
                source_name,
                format!("member {} of {size} bytes", path.display()),
                format!("{} bytes", entry.size()),
            ));
        }
        let out_path = out_dir.join(name);
        let mut out =
            File::create(&out_path).map_err(|err| DataError::io(&out_path, "creating", err))?;
        let copied = std::io::copy(&mut entry, &mut out).map_err(damaged)?;
        if copied != *size {
            return Err(DataError::format(
                source_name,
                format!("member {} of {size} bytes", path.display()),
                format!("{copied} bytes before the end of the archive"),
            ));
        }
        found[k] = true;
    }
    match found.iter().position(|&f| !f) {
        None => Ok(()),
        Some(k) => Err(DataError::format(
            source_name,
            format!("a member {}/{}", archive.folder, archive.members[k].0),
            "no such member",
        )),
    }
}
