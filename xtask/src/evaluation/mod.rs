//! What `train-demo` and `eval` share beyond the recipes: the evaluation on the test split
//! and the way shares are printed.

pub mod confusion;

/// A share as a percentage, `97.50%`, or `-` when there is no value.
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_string(), |s| format!("{:.2}%", 100.0 * s))
}
