//! Compact printing in the style of PyTorch: nested brackets, aligned columns, long
//! dimensions summarised with `...`.

use crate::Tensor;
use std::fmt;

/// Dimensions longer than this are shown as their first and last [`EDGE_ITEMS`] entries.
const SUMMARY_LEN: usize = 8;
/// Entries kept at each end of a summarised dimension.
const EDGE_ITEMS: usize = 3;

fn format_value(x: f32, integral: bool) -> String {
    if integral && x.is_finite() {
        format!("{x:.0}.")
    } else if x != 0.0 && x.is_finite() && (x.abs() >= 1e5 || x.abs() < 1e-4) {
        format!("{x:.4e}")
    } else {
        format!("{x:.4}")
    }
}

fn shown(len: usize) -> Vec<Option<usize>> {
    if len > SUMMARY_LEN {
        (0..EDGE_ITEMS)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((len - EDGE_ITEMS..len).map(Some))
            .collect()
    } else {
        (0..len).map(Some).collect()
    }
}

impl Tensor {
    fn write_nested(
        &self,
        f: &mut fmt::Formatter<'_>,
        values: &[f32],
        dim: usize,
        at: usize,
        cell: &dyn Fn(f32) -> String,
    ) -> fmt::Result {
        let shape = self.shape();
        if dim == shape.len() {
            return write!(f, "{}", cell(values[at]));
        }
        let inner: usize = shape[dim + 1..].iter().product();
        write!(f, "[")?;
        let indent = " ".repeat("tensor(".len() + dim + 1);
        for (n, entry) in shown(shape[dim]).into_iter().enumerate() {
            if n > 0 {
                if dim + 1 == shape.len() {
                    write!(f, ", ")?;
                } else {
                    write!(f, ",{}{indent}", "\n".repeat(shape.len() - dim - 1))?;
                }
            }
            match entry {
                Some(i) => self.write_nested(f, values, dim + 1, at + i * inner, cell)?,
                None => write!(f, "...")?,
            }
        }
        write!(f, "]")
    }
}

impl fmt::Display for Tensor {
    /// ```
    /// use strata_tensor::Tensor;
    /// let t = Tensor::from_vec(vec![1.0, 2.5, -3.0, 4.0], &[2, 2]);
    /// assert_eq!(t.to_string(), "tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]])");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = self.values();
        let integral = values.iter().all(|x| x.fract() == 0.0);
        let width = values
            .iter()
            .map(|&x| format_value(x, integral).len())
            .max()
            .unwrap_or(0);
        let cell = |x: f32| format!("{:>width$}", format_value(x, integral));
        write!(f, "tensor(")?;
        self.write_nested(f, &values, 0, 0, &cell)?;
        if self.numel() > SUMMARY_LEN * SUMMARY_LEN || self.numel() == 0 {
            write!(f, ", shape={:?}", self.shape())?;
        }
        write!(f, ")")
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor{:?} {self}", self.shape())
    }
}
