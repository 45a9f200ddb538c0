//! A picture of the patterns the first layer learned: a dense layer's neuron detects the
//! pattern `w` in its input through the scalar product `<x, w>`, so each weight row (or each
//! convolution filter) drawn in the input's own layout shows what that neuron looks for.
//! Written as a grayscale PNG: mid-gray is 0, white the tile's largest positive weight,
//! black its most negative.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use strata_modules::Params;
use strata_tensor::Tensor;

/// Most patterns drawn: a 16×16 grid still shows each one clearly.
const MAX_TILES: usize = 256;
/// Patterns smaller than this many pixels on their longer side are scaled up by a whole
/// factor (an 8×8 digit pattern becomes 32×32, a 28×28 one 56×56).
const MIN_TILE_PIXELS: usize = 32;
/// Pixels between tiles.
const GAP: usize = 2;
/// Gray of the gaps between tiles.
const GAP_GRAY: u8 = 40;

/// Size and layout of the picture that [`draw_first_layer_weights`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightGrid {
    /// Patterns drawn.
    pub tiles: usize,
    /// Rows and columns of one pattern (before scaling).
    pub tile_shape: (usize, usize),
    /// Picture width and height in pixels.
    pub pixels: (usize, usize),
}

/// Draws each pattern of the model's first weight (its first parameter with two or more
/// axes: `[out, in]` of a dense layer, `[out, channels, kh, kw]` of a convolution) into a
/// PNG at `path`. Dense rows are laid out as the input (`input_shape`, channels stacked
/// vertically); convolution filters as their channels stacked vertically.
pub fn draw_first_layer_weights(
    model: &dyn Params,
    input_shape: &[usize],
    path: &Path,
) -> Result<WeightGrid, String> {
    let weight = model
        .parameters()
        .into_iter()
        .find(|p| p.ndim() >= 2)
        .ok_or("the model has no weight matrix or filter bank to draw")?
        .value()
        .contiguous();
    let tile_shape = tile_shape(weight.shape(), input_shape);
    let tiles = weight.shape()[0].min(MAX_TILES);
    let (pixels, (width, height)) = render(&weight, tiles, tile_shape);
    write_png(path, &pixels, width, height)
        .map_err(|err| format!("writing {}: {err}", path.display()))?;
    Ok(WeightGrid {
        tiles,
        tile_shape,
        pixels: (width, height),
    })
}

/// Rows and columns of one pattern of a weight of `shape`.
fn tile_shape(shape: &[usize], input_shape: &[usize]) -> (usize, usize) {
    let per_pattern: usize = shape[1..].iter().product();
    match (shape, input_shape) {
        ([_, channels, kh, kw], _) => (channels * kh, *kw),
        (_, [channels, h, w]) if channels * h * w == per_pattern => (channels * h, *w),
        (_, [h, w]) if h * w == per_pattern => (*h, *w),
        _ => (1, per_pattern),
    }
}

/// Gray pixels of the grid (row-major) and its size.
fn render(
    weight: &Tensor,
    tiles: usize,
    (rows, cols): (usize, usize),
) -> (Vec<u8>, (usize, usize)) {
    let scale = MIN_TILE_PIXELS.div_ceil(rows.max(cols)).max(1);
    let grid_cols = (tiles as f64).sqrt().ceil().max(1.0) as usize;
    let grid_rows = tiles.div_ceil(grid_cols);
    let (tile_w, tile_h) = (cols * scale, rows * scale);
    let width = GAP + grid_cols * (tile_w + GAP);
    let height = GAP + grid_rows * (tile_h + GAP);
    let mut pixels = vec![GAP_GRAY; width * height];
    let values = weight.values();
    let per_pattern = rows * cols;
    for tile in 0..tiles {
        let pattern = &values[tile * per_pattern..(tile + 1) * per_pattern];
        let largest = pattern.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let gray = |w: f32| {
            let unit = if largest > 0.0 { w / largest } else { 0.0 };
            (127.5 + 127.5 * unit).round().clamp(0.0, 255.0) as u8
        };
        let left = GAP + (tile % grid_cols) * (tile_w + GAP);
        let top = GAP + (tile / grid_cols) * (tile_h + GAP);
        for y in 0..tile_h {
            for x in 0..tile_w {
                pixels[(top + y) * width + left + x] =
                    gray(pattern[(y / scale) * cols + x / scale]);
            }
        }
    }
    (pixels, (width, height))
}

fn write_png(path: &Path, pixels: &[u8], width: usize, height: usize) -> Result<(), String> {
    let file = File::create(path).map_err(|err| err.to_string())?;
    let size = |n: usize| u32::try_from(n).map_err(|_| format!("picture too large: {n} pixels"));
    let mut encoder = png::Encoder::new(BufWriter::new(file), size(width)?, size(height)?);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|err| err.to_string())?;
    writer
        .write_image_data(pixels)
        .map_err(|err| err.to_string())?;
    writer.finish().map_err(|err| err.to_string())
}
