//! Reading criterion's results: every `new/benchmark.json` (the benchmark's id and
//! throughput) beside its `new/estimates.json` (time per iteration) under
//! `target/criterion/`, keeping only those written by this run.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use std::time::SystemTime;

/// One benchmark's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Median time of one iteration, in nanoseconds.
    pub median_ns: f64,
    /// Elements processed per iteration (criterion's `Throughput::Elements`), if declared.
    pub elements: Option<f64>,
}

impl Measurement {
    /// Elements per second, if the benchmark declares a throughput.
    pub fn per_second(&self) -> Option<f64> {
        self.elements.map(|n| n / (self.median_ns * 1e-9))
    }
}

#[derive(Deserialize)]
struct BenchmarkFile {
    full_id: String,
    throughput: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

#[derive(Deserialize)]
struct EstimatesFile {
    median: Estimate,
}

/// Every benchmark under `criterion_dir` whose estimates were written at or after `since`,
/// by full id (`group/function/value`).
pub fn read_results(
    criterion_dir: &Path,
    since: SystemTime,
) -> Result<HashMap<String, Measurement>, String> {
    let mut results = HashMap::new();
    if criterion_dir.is_dir() {
        collect(criterion_dir, since, &mut results)?;
    }
    Ok(results)
}

fn collect(
    dir: &Path,
    since: SystemTime,
    results: &mut HashMap<String, Measurement>,
) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|err| format!("reading {}: {err}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|name| name == "new") {
            if let Some((id, measurement)) = read_one(&path, since)? {
                results.insert(id, measurement);
            }
        } else {
            collect(&path, since, results)?;
        }
    }
    Ok(())
}

/// The result in one `new/` folder, if it is complete and recent.
fn read_one(dir: &Path, since: SystemTime) -> Result<Option<(String, Measurement)>, String> {
    let estimates_path = dir.join("estimates.json");
    let benchmark_path = dir.join("benchmark.json");
    let fresh = std::fs::metadata(&estimates_path)
        .and_then(|meta| meta.modified())
        .is_ok_and(|modified| modified >= since);
    if !fresh || !benchmark_path.is_file() {
        return Ok(None);
    }
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|err| format!("reading {}: {err}", path.display()))
    };
    let parse_error = |path: &Path, err: serde_json::Error| {
        format!("{}: expected criterion's JSON, found {err}", path.display())
    };
    let benchmark: BenchmarkFile = serde_json::from_str(&read(&benchmark_path)?)
        .map_err(|err| parse_error(&benchmark_path, err))?;
    let estimates: EstimatesFile = serde_json::from_str(&read(&estimates_path)?)
        .map_err(|err| parse_error(&estimates_path, err))?;
    let elements = benchmark.throughput.and_then(|throughput| {
        throughput
            .get("Elements")
            .and_then(serde_json::Value::as_f64)
    });
    Ok(Some((
        benchmark.full_id,
        Measurement {
            median_ns: estimates.median.point_estimate,
            elements,
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Writes one criterion result folder as criterion 0.8 does.
    fn write_result(root: &Path, dir: &str, full_id: &str, elements: Option<u64>, median_ns: f64) {
        let new = root.join(dir).join("new");
        std::fs::create_dir_all(&new).expect("create the result folder");
        let throughput = elements.map_or("null".to_string(), |n| format!("{{\"Elements\":{n}}}"));
        std::fs::write(
            new.join("benchmark.json"),
            format!("{{\"group_id\":\"g\",\"function_id\":null,\"value_str\":null,\"throughput\":{throughput},\"full_id\":\"{full_id}\",\"directory_name\":\"{dir}\",\"title\":\"{full_id}\"}}"),
        )
        .expect("write benchmark.json");
        let estimate = |value: f64| {
            format!("{{\"confidence_interval\":{{\"confidence_level\":0.95,\"lower_bound\":{value},\"upper_bound\":{value}}},\"point_estimate\":{value},\"standard_error\":1.0}}")
        };
        std::fs::write(
            new.join("estimates.json"),
            format!(
                "{{\"mean\":{},\"median\":{},\"median_abs_dev\":{},\"slope\":null,\"std_dev\":{}}}",
                estimate(2.0 * median_ns),
                estimate(median_ns),
                estimate(1.0),
                estimate(1.0)
            ),
        )
        .expect("write estimates.json");
    }

    #[test]
    fn reads_fresh_results_by_full_id_with_their_throughput() {
        let root = std::env::temp_dir().join(format!("xtask-criterion-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let before = SystemTime::now() - Duration::from_secs(60);
        // Criterion replaces '/' in group names by '_' in folder names; the id keeps it.
        write_result(
            &root,
            "matmul_64x64x64/strata/1t",
            "matmul/64x64x64/strata/1t",
            Some(524_288),
            2_000.0,
        );
        write_result(&root, "tiny_step", "tiny_step", None, 40_000.0);
        let results = read_results(&root, before).expect("results read");
        let matmul = &results["matmul/64x64x64/strata/1t"];
        assert_eq!(matmul.median_ns, 2_000.0, "the median, not the mean");
        // 524,288 flops in 2 µs: 262.144 GFLOP/s.
        assert!((matmul.per_second().expect("a throughput") - 262.144e9).abs() < 1.0);
        assert_eq!(results["tiny_step"].per_second(), None);

        let later = SystemTime::now() + Duration::from_secs(60);
        assert!(
            read_results(&root, later).expect("results read").is_empty(),
            "stale results are ignored"
        );
        assert!(read_results(&root.join("absent"), before)
            .expect("no folder")
            .is_empty());
        std::fs::remove_dir_all(&root).expect("clean up");
    }
}
