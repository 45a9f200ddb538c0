//! `cargo xtask fetch NAME [--dir PATH] [--mirror URL]... [--list]`: downloads a dataset
//! with `strata_datasets::fetch_with` (checksum-verified), showing a progress bar per file.

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use strata_datasets::{
    default_cache_dir, fetch_with, DataError, FetchOptions, Progress, RemoteDataset,
};

/// Options of `fetch`.
#[derive(Args, Debug)]
pub struct FetchArgs {
    /// Dataset to download (see --list).
    #[arg(required_unless_present = "list")]
    name: Option<String>,
    /// Cache folder to download into; the files go to DIR/NAME [default: $STRATA_DATA, else
    /// $XDG_CACHE_HOME/strata, else ~/.cache/strata].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Base address to download from instead of the dataset's own mirrors (e.g. a local
    /// copy); repeat to try several in turn. The files are still checked against their
    /// published SHA-256.
    #[arg(long = "mirror", value_name = "URL")]
    mirrors: Vec<String>,
    /// List the datasets that can be fetched, with their files and sizes.
    #[arg(long)]
    list: bool,
}

/// Runs `fetch`.
pub fn run(args: FetchArgs) -> Result<(), String> {
    let cache = match args.dir {
        Some(dir) => dir,
        None => default_cache_dir().map_err(|err| err.to_string())?,
    };
    if args.list {
        return list(&cache);
    }
    let Some(name) = args.name else {
        return Err("name a dataset to fetch (see `cargo xtask fetch --list`)".into());
    };
    let dataset = RemoteDataset::by_name(&name).map_err(|err| err.to_string())?;
    let options = FetchOptions {
        mirrors: (!args.mirrors.is_empty()).then_some(args.mirrors),
        ..FetchOptions::default()
    };
    let mut bar: Option<ProgressBar> = None;
    let folder = fetch_with(&dataset, &cache, &options, &mut |event| {
        report(event, &mut bar)
    })
    .map_err(|err| err.to_string())?;
    if let Some(bar) = bar.take() {
        bar.finish_and_clear();
    }
    println!("{name} is ready in {}", folder.display());
    println!(
        "train on it: cargo xtask train-demo --dataset {name} --data-dir {}",
        folder.display()
    );
    Ok(())
}

/// The names `fetch` knows, from strata-datasets' own list (which it gives when asked for a
/// name it does not know), so this front never falls out of step with it.
fn known_names() -> Vec<&'static str> {
    match RemoteDataset::by_name("") {
        Err(DataError::UnknownDataset { known, .. }) => known,
        _ => Vec::new(),
    }
}

fn list(cache: &std::path::Path) -> Result<(), String> {
    println!(
        "datasets that `cargo xtask fetch NAME` downloads into {}/NAME:",
        cache.display()
    );
    for name in known_names() {
        let dataset = RemoteDataset::by_name(name).map_err(|err| err.to_string())?;
        let bytes: u64 = dataset.files.iter().map(|f| f.size).sum();
        let files: Vec<&str> = dataset.files.iter().map(|f| f.name.as_str()).collect();
        println!(
            "  {name:<14} {:>6.1} MB  {}",
            bytes as f64 / 1e6,
            files.join(", ")
        );
    }
    Ok(())
}

/// Shows one event of the download: a byte-count bar per file, a line per finished file.
fn report(event: Progress<'_>, bar: &mut Option<ProgressBar>) {
    match event {
        Progress::AlreadyPresent { file } => println!("{file}: already present and verified"),
        Progress::Downloading {
            file,
            url,
            received,
            total,
        } => {
            let bar = bar.get_or_insert_with(|| new_bar(file, url, total));
            bar.set_position(received);
        }
        Progress::MirrorFailed { file, url, error } => {
            finish(bar);
            println!("{file}: {url} failed ({error}); trying the next mirror");
        }
        Progress::Verified { file } => {
            finish(bar);
            println!("{file}: downloaded, SHA-256 verified");
        }
        Progress::Unpacking { file } => println!("{file}: unpacking"),
        _ => {}
    }
}

fn new_bar(file: &str, url: &str, total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{prefix} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(file.to_string());
    tracing::info!(url, "downloading");
    bar
}

fn finish(bar: &mut Option<ProgressBar>) {
    if let Some(bar) = bar.take() {
        bar.finish_and_clear();
    }
}
