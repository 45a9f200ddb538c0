//! Random shifts of an image by a few pixels: the light augmentation that teaches a
//! classifier of centred digits that a digit two pixels off-centre is the same digit.

use crate::dataset::Example;
use crate::error::DataResult;
use crate::transform::{image_dims, Transform};
use strata_tensor::{Rng, Tensor};

/// Moves the image by a random whole number of pixels, drawn uniformly and independently on
/// each axis from `-max_shift..=max_shift` (the same move for every channel). The pixels the
/// move uncovers repeat the nearest edge pixel of the image (Keras' `fill_mode="nearest"`):
/// on images with a plain background, such as MNIST's, that is the background, whatever
/// standardisation the pixels went through before.
///
/// ```
/// use strata_datasets::{Example, RandomShift, Transform};
/// use strata_tensor::{Rng, Tensor};
/// // A 1 on a 5x5 background of 0s, moved by at most one pixel each way.
/// let mut pixels = vec![0.0; 25];
/// pixels[12] = 1.0;
/// let example = Example::new(Tensor::from_vec(pixels, &[1, 5, 5]), Tensor::scalar(0.0));
/// let shifted = RandomShift { max_shift: 1 }.apply(example, &mut Rng::new(3)).unwrap();
/// let at = shifted.input().to_vec().iter().position(|&v| v == 1.0).unwrap();
/// let (row, col) = (at / 5, at % 5);
/// assert!((1..=3).contains(&row) && (1..=3).contains(&col));
/// assert_eq!(shifted.input().sum().item(), 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomShift {
    /// The largest move, in pixels, along each axis (0 leaves images as they are).
    pub max_shift: usize,
}

impl Transform for RandomShift {
    fn apply(&self, example: Example, rng: &mut Rng) -> DataResult<Example> {
        let (channels, h, w) = image_dims("RandomShift", example.input())?;
        let m = self.max_shift;
        let dy = rng.below(2 * m + 1) as isize - m as isize;
        let dx = rng.below(2 * m + 1) as isize - m as isize;
        if (dy, dx) == (0, 0) {
            return Ok(example);
        }
        // Output pixel (y, x) is input pixel (y − dy, x − dx), clamped into the image: the
        // clamp is what repeats the edge pixels into the uncovered border.
        let source = |at: usize, by: isize, len: usize| {
            (at as isize - by).clamp(0, len as isize - 1) as usize
        };
        let src = example.input().values();
        let mut out = Vec::with_capacity(channels * h * w);
        for plane in src.chunks(h * w) {
            for y in 0..h {
                let row = &plane[source(y, dy, h) * w..][..w];
                out.extend((0..w).map(|x| row[source(x, dx, w)]));
            }
        }
        let shifted = Tensor::from_vec(out, example.input().shape());
        Ok(example.with_input(shifted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// `image` (`[C, H, W]`) moved by `(dy, dx)` with edge pixels repeated, computed
    /// directly from the definition, independently of the transform's loop.
    fn moved(image: &[f32], (c, h, w): (usize, usize, usize), dy: isize, dx: isize) -> Vec<f32> {
        let mut out = vec![0.0; c * h * w];
        for k in 0..c {
            for y in 0..h as isize {
                for x in 0..w as isize {
                    let sy = (y - dy).max(0).min(h as isize - 1) as usize;
                    let sx = (x - dx).max(0).min(w as isize - 1) as usize;
                    out[(k * h + y as usize) * w + x as usize] = image[(k * h + sy) * w + sx];
                }
            }
        }
        out
    }

    fn shift(max_shift: usize, input: Tensor, seed: u64) -> DataResult<Tensor> {
        let example = Example::new(input, Tensor::scalar(1.0));
        let out = RandomShift { max_shift }.apply(example, &mut Rng::new(seed))?;
        assert_eq!(out.target().item(), 1.0, "the target is left alone");
        Ok(out.input().clone())
    }

    #[test]
    fn every_move_within_the_bound_occurs_and_nothing_else() {
        let dims = (2, 4, 5);
        let image: Vec<f32> = (0..40).map(|v| v as f32).collect();
        let moves: Vec<(isize, isize)> = (-2..=2)
            .flat_map(|dy| (-2..=2).map(move |dx| (dy, dx)))
            .collect();
        let mut seen = HashSet::new();
        for seed in 0..400 {
            let out = shift(2, Tensor::from_vec(image.clone(), &[2, 4, 5]), seed).unwrap();
            assert_eq!(out.shape(), &[2, 4, 5]);
            let at = moves
                .iter()
                .position(|&(dy, dx)| moved(&image, dims, dy, dx) == out.to_vec())
                .expect("a move of at most 2 pixels, the same for both channels");
            seen.insert(at);
        }
        assert_eq!(seen.len(), 25, "all 5 x 5 moves occur");
    }

    #[test]
    fn the_uncovered_border_repeats_the_edge() {
        // Rows 10, 20, 30 moved down one pixel: the top row repeats row 10.
        let image = Tensor::from_vec(vec![10.0, 11.0, 20.0, 21.0, 30.0, 31.0], &[3, 2]);
        let down = (0..100)
            .map(|seed| shift(1, image.clone(), seed).unwrap().to_vec())
            .find(|out| out[..4] == [10.0, 11.0, 10.0, 11.0])
            .expect("a move of one row down and none across");
        assert_eq!(down, vec![10.0, 11.0, 10.0, 11.0, 20.0, 21.0]);
    }

    #[test]
    fn zero_leaves_the_image_and_the_seed_decides_the_move() {
        let image = Tensor::from_vec((0..9).map(|v| v as f32).collect(), &[1, 3, 3]);
        assert_eq!(shift(0, image.clone(), 7).unwrap(), image);
        assert_eq!(
            shift(1, image.clone(), 7).unwrap(),
            shift(1, image.clone(), 7).unwrap()
        );
        // A move larger than the image fills it with edge pixels, without failing.
        assert_eq!(shift(10, image, 1).unwrap().shape(), &[1, 3, 3]);
    }

    #[test]
    fn a_vector_is_refused_naming_what_was_expected() {
        let err = shift(1, Tensor::zeros(&[4]), 0).unwrap_err().to_string();
        assert!(err.contains("RandomShift"), "{err}");
        assert!(err.contains("[C, H, W]") && err.contains("[4]"), "{err}");
    }
}
