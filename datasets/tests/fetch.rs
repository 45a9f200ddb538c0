//! `fetch` against a small HTTP server this test starts on 127.0.0.1 (never the internet):
//! good files, corrupted files, server errors, interrupted transfers, tarballs, and the real
//! MNIST files in shared/data as an already-populated cache.

mod common;

use common::{gzip, shared_data, Scratch};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use strata_datasets::{
    default_cache_dir, fetch, fetch_with, Archive, DataError, FetchOptions, Progress,
    RemoteDataset, RemoteFile,
};

/// Longest a test server stays up, so it always stops by itself.
const SERVER_LIFETIME: Duration = Duration::from_secs(120);

/// An HTTP/1.1 server on 127.0.0.1 serving `files` under four behaviours chosen by the first
/// path segment: `/good/NAME` (the file), `/corrupt/NAME` (same length, one byte changed),
/// `/error/NAME` (500), `/cut/NAME` (announces the full length, sends half, closes).
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(files: Vec<(String, Vec<u8>)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, stopping) = (Arc::clone(&requests), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            while !stopping.load(Ordering::Relaxed) && started.elapsed() < SERVER_LIFETIME {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &files, &log),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn mirror(&self, behaviour: &str) -> String {
        format!("http://127.0.0.1:{}/{behaviour}/", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut stream: TcpStream, files: &[(String, Vec<u8>)], log: &Mutex<Vec<String>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    log.lock().unwrap().push(path.clone());
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (behaviour, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let file = files
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, bytes)| bytes.clone());
    let respond = |stream: &mut TcpStream, status: &str, length: usize, body: &[u8]| {
        let header =
            format!("HTTP/1.1 {status}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n");
        let _ = stream.write_all(header.as_bytes());
        let _ = stream.write_all(body);
        let _ = stream.flush();
    };
    match (behaviour, file) {
        ("good", Some(bytes)) => respond(&mut stream, "200 OK", bytes.len(), &bytes),
        ("corrupt", Some(mut bytes)) => {
            bytes[0] ^= 0xFF;
            respond(&mut stream, "200 OK", bytes.len(), &bytes)
        }
        ("error", Some(_)) => respond(&mut stream, "500 Internal Server Error", 0, b""),
        ("cut", Some(bytes)) => respond(
            &mut stream,
            "200 OK",
            bytes.len(),
            &bytes[..bytes.len() / 2],
        ),
        _ => respond(&mut stream, "404 Not Found", 0, b""),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Deterministic pseudo-random content.
fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + seed as usize * 7) % 251) as u8)
        .collect()
}

/// A two-file dataset called `tiny`, its files' bytes, and a server serving them.
fn tiny() -> (RemoteDataset, Vec<(String, Vec<u8>)>, Server) {
    let files = vec![
        ("a.bin".to_string(), content(200_000, 1)),
        ("b.bin".to_string(), content(1_000, 2)),
    ];
    let dataset = RemoteDataset {
        name: "tiny".into(),
        mirrors: vec!["http://127.0.0.1:1/never-used/".into()],
        files: files
            .iter()
            .map(|(n, b)| RemoteFile::new(n, b.len() as u64, &sha256_hex(b)))
            .collect(),
        archive: None,
    };
    let server = Server::start(files.clone());
    (dataset, files, server)
}

fn options(mirrors: Vec<String>) -> FetchOptions {
    FetchOptions {
        mirrors: Some(mirrors),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
    }
}

/// What a progress callback saw, as short strings: `"present a.bin"`, `"failed <url>"`, ….
fn recorder(events: &mut Vec<String>) -> impl FnMut(Progress<'_>) + '_ {
    move |p| match p {
        Progress::AlreadyPresent { file } => events.push(format!("present {file}")),
        Progress::Verified { file } => events.push(format!("verified {file}")),
        Progress::MirrorFailed { url, .. } => events.push(format!("failed {url}")),
        Progress::Unpacking { file } => events.push(format!("unpacking {file}")),
        Progress::Downloading {
            file,
            received,
            total,
            ..
        } if received == total => events.push(format!("received {file} {received}")),
        _ => {}
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn downloads_verify_and_present_files_are_not_downloaded_again() {
    let (dataset, files, server) = tiny();
    let cache = Scratch::new("fetch-good");
    let mut events = Vec::new();
    let dir = fetch_with(
        &dataset,
        &cache.0,
        &options(vec![server.mirror("good")]),
        &mut recorder(&mut events),
    )
    .unwrap();
    assert_eq!(dir, cache.0.join("tiny"));
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(dir.join(name)).unwrap(), bytes);
    }
    assert_eq!(
        listing(&dir),
        vec!["a.bin", "b.bin"],
        "no temporary file left"
    );
    assert_eq!(
        events,
        vec![
            "received a.bin 200000",
            "verified a.bin",
            "received b.bin 1000",
            "verified b.bin"
        ]
    );
    assert_eq!(server.requests().len(), 2);
    let mut again = Vec::new();
    fetch_with(
        &dataset,
        &cache.0,
        &options(vec![server.mirror("good")]),
        &mut recorder(&mut again),
    )
    .unwrap();
    assert_eq!(again, vec!["present a.bin", "present b.bin"]);
    assert_eq!(
        server.requests().len(),
        2,
        "nothing downloaded the second time"
    );
}

#[test]
fn temporaries_of_killed_downloads_are_removed_and_those_of_running_ones_kept() {
    let (dataset, _, server) = tiny();
    let cache = Scratch::new("fetch-stale");
    let dir = cache.0.join("tiny");
    std::fs::create_dir_all(&dir).unwrap();
    // A writer that is gone: a process that ran and was reaped.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let (dead, me) = (gone.id(), std::process::id());
    let stale = [
        format!(".a.bin.{dead}-0.tmp"),
        format!(".b.bin.{dead}-4.tmp"),
    ];
    let running = format!(".a.bin.{me}-999.tmp");
    for name in stale.iter().chain([&running]) {
        std::fs::write(dir.join(name), b"partial").unwrap();
    }
    fetch_with(
        &dataset,
        &cache.0,
        &options(vec![server.mirror("good")]),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(listing(&dir), vec![running, "a.bin".into(), "b.bin".into()]);
}

#[test]
fn a_checksum_mismatch_deletes_the_temp_file_and_names_both_sums() {
    let (dataset, files, server) = tiny();
    let cache = Scratch::new("fetch-corrupt");
    let err = fetch_with(
        &dataset,
        &cache.0,
        &options(vec![server.mirror("corrupt")]),
        &mut |_| {},
    )
    .unwrap_err();
    let mut corrupted = files[0].1.clone();
    corrupted[0] ^= 0xFF;
    let DataError::Unavailable {
        file,
        attempts,
        manual_dir,
    } = &err
    else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert_eq!(
        (file.as_str(), manual_dir.as_path()),
        ("a.bin", cache.0.join("tiny").as_path())
    );
    match &attempts[..] {
        [(
            url,
            DataError::Checksum {
                file,
                expected,
                found,
            },
        )] => {
            assert_eq!(url, &format!("{}a.bin", server.mirror("corrupt")));
            assert!(file.ends_with("tiny/a.bin"));
            assert_eq!(expected, &sha256_hex(&files[0].1));
            assert_eq!(found, &sha256_hex(&corrupted));
        }
        other => panic!("expected one checksum failure, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&sha256_hex(&corrupted)) && message.contains(&sha256_hex(&files[0].1))
    );
    assert!(
        message.contains("place it in")
            && message.contains(&cache.0.join("tiny").display().to_string())
    );
    assert!(
        listing(&cache.0.join("tiny")).is_empty(),
        "temporary file deleted"
    );
}

#[test]
fn a_server_error_moves_on_to_the_next_mirror() {
    let (dataset, files, server) = tiny();
    let cache = Scratch::new("fetch-500");
    let mut events = Vec::new();
    let mirrors = vec![server.mirror("error"), server.mirror("good")];
    let dir = fetch_with(
        &dataset,
        &cache.0,
        &options(mirrors),
        &mut recorder(&mut events),
    )
    .unwrap();
    assert_eq!(std::fs::read(dir.join("b.bin")).unwrap(), files[1].1);
    assert_eq!(events[0], format!("failed {}a.bin", server.mirror("error")));
    assert_eq!(
        server.requests(),
        vec!["/error/a.bin", "/good/a.bin", "/error/b.bin", "/good/b.bin"]
    );
}

#[test]
fn an_interrupted_transfer_fails_over_and_leaves_nothing_behind() {
    let (dataset, files, server) = tiny();
    let cache = Scratch::new("fetch-cut");
    let err = fetch_with(
        &dataset,
        &cache.0,
        &options(vec![server.mirror("cut")]),
        &mut |_| {},
    )
    .unwrap_err();
    match &err {
        DataError::Unavailable { attempts, .. } => {
            assert!(
                matches!(attempts[..], [(_, DataError::Network { .. })]),
                "{err}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(
        listing(&cache.0.join("tiny")).is_empty(),
        "temporary file deleted"
    );
    let mirrors = vec![server.mirror("cut"), server.mirror("good")];
    let dir = fetch_with(&dataset, &cache.0, &options(mirrors), &mut |_| {}).unwrap();
    assert_eq!(std::fs::read(dir.join("a.bin")).unwrap(), files[0].1);
}

#[test]
fn a_damaged_cached_file_is_downloaded_again() {
    let (dataset, files, server) = tiny();
    let cache = Scratch::new("fetch-replace");
    let dir = cache.0.join("tiny");
    std::fs::create_dir_all(&dir).unwrap();
    let mut damaged = files[1].1.clone();
    damaged[10] ^= 1;
    std::fs::write(dir.join("b.bin"), &damaged).unwrap();
    fetch_with(
        &dataset,
        &cache.0,
        &options(vec![server.mirror("good")]),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(std::fs::read(dir.join("b.bin")).unwrap(), files[1].1);
}

#[test]
fn no_reachable_mirror_says_where_to_put_the_files() {
    let (dataset, _, _server) = tiny();
    let cache = Scratch::new("fetch-offline");
    // Port 1 on the loopback address has no listener: the connection is refused at once.
    let err = fetch_with(
        &dataset,
        &cache.0,
        &options(vec!["http://127.0.0.1:1/".into()]),
        &mut |_| {},
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("could not obtain a.bin"), "{message}");
    assert!(message.contains("http://127.0.0.1:1/a.bin"), "{message}");
    assert!(
        message.contains(&format!("place it in {}", cache.0.join("tiny").display())),
        "{message}"
    );
}

/// A gzip tarball with `members` (path, bytes).
fn tarball(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, &bytes[..]).unwrap();
    }
    gzip(&builder.into_inner().unwrap())
}

#[test]
fn tarballs_are_unpacked_with_member_sizes_checked() {
    let (a, b) = (content(3000, 3), content(700, 4));
    let tar = tarball(&[
        ("batches/a.bin", a.clone()),
        ("batches/readme.txt", b"hi".to_vec()),
        ("batches/b.bin", b.clone()),
    ]);
    let server = Server::start(vec![("pack.tar.gz".into(), tar.clone())]);
    let dataset = |members: Vec<(&str, u64)>| RemoteDataset {
        name: "packed".into(),
        mirrors: vec![],
        files: vec![RemoteFile::new(
            "pack.tar.gz",
            tar.len() as u64,
            &sha256_hex(&tar),
        )],
        archive: Some(Archive {
            folder: "batches".into(),
            members: members
                .into_iter()
                .map(|(n, s)| (n.to_string(), s))
                .collect(),
        }),
    };
    let cache = Scratch::new("fetch-tar");
    let mirrors = options(vec![server.mirror("good")]);
    let dir = fetch_with(
        &dataset(vec![("a.bin", 3000), ("b.bin", 700)]),
        &cache.0,
        &mirrors,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(dir, cache.0.join("packed/batches"));
    assert_eq!(listing(&dir), vec!["a.bin", "b.bin"]);
    assert_eq!(std::fs::read(dir.join("b.bin")).unwrap(), b);
    let mut events = Vec::new();
    fetch_with(
        &dataset(vec![("a.bin", 3000), ("b.bin", 700)]),
        &cache.0,
        &mirrors,
        &mut recorder(&mut events),
    )
    .unwrap();
    assert!(events.is_empty(), "already unpacked: {events:?}");
    assert_eq!(server.requests().len(), 1);

    let fresh = Scratch::new("fetch-tar-bad");
    let err = fetch_with(
        &dataset(vec![("a.bin", 2999)]),
        &fresh.0,
        &mirrors,
        &mut |_| {},
    )
    .unwrap_err();
    match err {
        DataError::Format {
            expected, found, ..
        } => {
            assert_eq!(
                (expected.as_str(), found.as_str()),
                ("member batches/a.bin of 2999 bytes", "3000 bytes")
            );
        }
        other => panic!("expected a format error, got {other:?}"),
    }
    let err = fetch_with(
        &dataset(vec![("c.bin", 5)]),
        &fresh.0,
        &mirrors,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("expected a member batches/c.bin, found no such member"),
        "{err}"
    );
    assert_eq!(
        listing(&fresh.0.join("packed")),
        vec!["pack.tar.gz"],
        "no partial folder left"
    );
}

#[test]
fn real_mnist_in_shared_data_is_already_present_and_valid() {
    let Some(mnist_dir) = shared_data(
        "mnist",
        "real_mnist_in_shared_data_is_already_present_and_valid",
    ) else {
        return;
    };
    let server = Server::start(Vec::new());
    let cache = mnist_dir.parent().unwrap();
    let mut events = Vec::new();
    let dir = fetch_with(
        &RemoteDataset::mnist(),
        cache,
        &options(vec![server.mirror("good")]),
        &mut recorder(&mut events),
    )
    .unwrap();
    assert_eq!(dir, mnist_dir);
    assert_eq!(events.len(), 4);
    assert!(
        events.iter().all(|e| e.starts_with("present ")),
        "{events:?}"
    );
    assert!(server.requests().is_empty(), "nothing requested");
}

#[test]
fn the_built_in_tables_and_names() {
    let err = fetch("imagenet", Path::new("/nonexistent"), &mut |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown dataset \"imagenet\": expected one of mnist, fashion-mnist, cifar10"
    );
    let cifar = RemoteDataset::by_name("cifar10").unwrap();
    let archive = cifar.archive.unwrap();
    assert_eq!(archive.members.len(), 6);
    assert!(archive.members.iter().all(|(_, size)| *size == 30_730_000));
    let fashion = RemoteDataset::by_name("fashion-mnist").unwrap();
    assert_eq!(fashion.files.len(), 4);
    assert!(fashion
        .files
        .iter()
        .chain(&RemoteDataset::mnist().files)
        .all(|f| f.sha256.len() == 64));
}

#[test]
fn the_cache_folder_follows_the_environment() {
    let saved: Vec<_> = ["STRATA_DATA", "XDG_CACHE_HOME"]
        .map(|k| (k, std::env::var_os(k)))
        .into();
    std::env::set_var("STRATA_DATA", "/data/strata-here");
    assert_eq!(default_cache_dir().unwrap(), Path::new("/data/strata-here"));
    std::env::remove_var("STRATA_DATA");
    std::env::set_var("XDG_CACHE_HOME", "/xdg/cache");
    assert_eq!(default_cache_dir().unwrap(), Path::new("/xdg/cache/strata"));
    std::env::set_var("XDG_CACHE_HOME", "relative/cache");
    if let Some(home) = std::env::var_os("HOME") {
        assert_eq!(
            default_cache_dir().unwrap(),
            Path::new(&home).join(".cache/strata")
        );
    }
    for (key, value) in saved {
        match value {
            Some(v) => std::env::set_var(key, v),
            None => std::env::remove_var(key),
        }
    }
}
