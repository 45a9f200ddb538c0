//! Checkpoint writes under stress: a save killed mid-way (SIGKILL) never damages the previous
//! checkpoint and its temporary is removed by the next save; concurrent saves to one path
//! never mix, and what is on disk is a complete save that returned `Ok`.

use std::path::{Path, PathBuf};
use std::sync::{Barrier, Mutex};
use strata_modules::{write_atomically, Checkpoint, NamedTensor};
use strata_tensor::Tensor;

/// Names the checkpoint the child process of the kill test saves to, over and over.
const SAVE_LOOP_TARGET: &str = "STRATA_TEST_SAVE_LOOP_TARGET";

/// A checkpoint whose `len` values all equal `version`, which its metadata also records, so
/// a loaded file says which save wrote it and that it was written whole.
fn versioned(version: u32, len: usize) -> Checkpoint {
    Checkpoint {
        params: vec![NamedTensor {
            name: "w".into(),
            tensor: Tensor::full(&[len], version as f32),
        }],
        ..Checkpoint::default()
    }
    .with_metadata("version", &version.to_string())
}

/// The version of the checkpoint at `path`, after checking that every value matches it.
fn version_on_disk(path: &Path) -> u32 {
    let loaded = Checkpoint::load(path).expect("the checkpoint on disk loads");
    let version: u32 = loaded.metadata["version"].parse().unwrap();
    let values = loaded.params[0].tensor.values();
    assert!(values.iter().all(|&v| v == version as f32), "a mixed file");
    version
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-writes-{name}-{}", std::process::id()));
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

/// Values per checkpoint of the kill test: 4 MB, so that a write lasts about a millisecond.
const KILL_TEST_VALUES: usize = 1 << 20;

/// The child of the kill test: writes two versions in turn to the target, the way
/// `Checkpoint::save` does, until killed (encoded once, so that nearly all its time is spent
/// inside writes). Does nothing when run on its own.
#[test]
#[ignore = "run by a_save_killed_mid_way_keeps_the_previous_checkpoint_and_is_cleaned_up_later"]
fn save_forever_for_the_kill_test() {
    let Some(target) = std::env::var_os(SAVE_LOOP_TARGET) else {
        return;
    };
    let versions = [1, 2].map(|v| versioned(v, KILL_TEST_VALUES).to_bytes().unwrap());
    for bytes in versions.iter().cycle() {
        write_atomically(Path::new(&target), bytes).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn a_save_killed_mid_way_keeps_the_previous_checkpoint_and_is_cleaned_up_later() {
    /// Kills: each lands at another moment of the child's save loop.
    const KILLS: u32 = 20;
    let dir = scratch("killed");
    let target = dir.join("model.ckpt");
    versioned(0, 16).save(&target).unwrap();
    let mut killed_inside_a_save = 0u32;
    for round in 0..KILLS {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "save_forever_for_the_kill_test", "--ignored"])
            .env(SAVE_LOOP_TARGET, &target)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Once the child's writes have begun, a varying 0 to 22 ms later.
        let began = std::time::Instant::now();
        while !matches!(version_on_disk(&target), 1 | 2) {
            assert!(began.elapsed().as_secs() < 60, "the child never wrote");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        std::thread::sleep(std::time::Duration::from_millis(u64::from(round * 7 % 23)));
        child.kill().unwrap(); // SIGKILL: no destructor, no clean-up runs in the child
        child.wait().unwrap();

        version_on_disk(&target);
        let left = listing(&dir).len() - 1;
        assert!(left <= 1, "one save at a time leaves at most one temporary");
        killed_inside_a_save += left as u32;

        versioned(1000 + round, 16).save(&target).unwrap();
        assert_eq!(
            listing(&dir),
            vec!["model.ckpt"],
            "the next save removes the temporary of the killed one"
        );
        assert_eq!(version_on_disk(&target), 1000 + round);
    }
    // Nearly all of the child's time is spent inside writes (17 of 20 kills here).
    assert!(
        killed_inside_a_save >= KILLS / 4,
        "only {killed_inside_a_save} of {KILLS} kills landed inside a save"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn concurrent_saves_to_one_path_never_mix() {
    const THREADS: u32 = 8;
    const SAVES: u32 = 5;
    let dir = scratch("concurrent");
    let target = dir.join("model.ckpt");
    let returned_ok = Mutex::new(Vec::new());
    let start = Barrier::new(THREADS as usize);
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (target, returned_ok, start) = (&target, &returned_ok, &start);
            s.spawn(move || {
                start.wait();
                for save in 0..SAVES {
                    let version = thread * 100 + save;
                    versioned(version, 200_000).save(target).unwrap();
                    returned_ok.lock().unwrap().push(version);
                }
            });
        }
    });
    let returned_ok = returned_ok.into_inner().unwrap();
    assert_eq!(returned_ok.len(), (THREADS * SAVES) as usize);
    // Each save renames its own complete temporary, so the file is one of them, whole; which
    // one is the last rename, and a later save replaces it.
    assert!(returned_ok.contains(&version_on_disk(&target)));
    assert_eq!(listing(&dir), vec!["model.ckpt"], "no temporary left");
    versioned(7777, 10).save(&target).unwrap();
    assert_eq!(version_on_disk(&target), 7777);
    std::fs::remove_dir_all(dir).unwrap();
}
