//! Temporaries for atomic writes: unique names, and clean-up of those whose writer is gone
//! while those of running processes stay.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use strata_tensor::temp_file::{remove_stale_temps, temp_path_for};

/// The id of a process that has exited and been reaped: a writer that is gone.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-temp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_write_gets_its_own_temporary_across_threads() {
    let target = Path::new("/somewhere/model.ckpt");
    let names: Vec<PathBuf> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    (0..100)
                        .map(|_| temp_path_for(target).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let distinct: HashSet<&PathBuf> = names.iter().collect();
    assert_eq!(distinct.len(), 800);
    assert!(names
        .iter()
        .all(|p| p.parent() == Some(Path::new("/somewhere"))));
    assert!(
        temp_path_for(Path::new("/")).is_err(),
        "a root names no file"
    );
}

#[test]
fn only_temporaries_of_the_target_whose_writer_is_gone_are_removed() {
    let dir = scratch("stale");
    let (dead, me) = (dead_pid(), std::process::id());
    let stale_file = format!(".m.ckpt.{dead}-0.tmp");
    let stale_folder = format!(".m.ckpt.{dead}-1.tmp");
    let kept = [
        "m.ckpt".to_string(),
        format!(".m.ckpt.{me}-5.tmp"), // this process: a concurrent write
        ".m.ckpt.1-2.tmp".to_string(), // process 1 always runs
        format!(".m.ckpt.{dead}.tmp"), // not a name temp_path_for gives
        format!(".m.ckpt.{dead}-0.tmp.bak"),
        format!(".m.ckpt.{dead}-x.tmp"),
        format!(".other.{dead}-0.tmp"), // another target's
        format!(".m.{dead}-0.tmp"),     // the target `m`'s, not `m.ckpt`'s
    ];
    for name in kept.iter().chain([&stale_file]) {
        std::fs::write(dir.join(name), b"x").unwrap();
    }
    std::fs::create_dir(dir.join(&stale_folder)).unwrap();
    std::fs::write(dir.join(&stale_folder).join("inside"), b"x").unwrap();

    let mut removed = remove_stale_temps(&dir.join("m.ckpt")).unwrap();
    removed.sort();
    assert_eq!(
        removed,
        vec![dir.join(&stale_file), dir.join(&stale_folder)]
    );
    let mut expected: Vec<String> = kept.to_vec();
    expected.sort();
    assert_eq!(listing(&dir), expected);
    assert!(remove_stale_temps(&dir.join("m.ckpt")).unwrap().is_empty());
    std::fs::remove_dir_all(dir).unwrap();
}
