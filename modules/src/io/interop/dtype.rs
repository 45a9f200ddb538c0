//! Decoding the floating-point element types of safetensors files into `f32`.

use safetensors::Dtype;

/// The values of little-endian `bytes` of element type `dtype` as `f32`: F32 as is, F16 and
/// BF16 widened (exactly), F64 rounded to the nearest `f32` (what PyTorch's `.float()` does).
/// `None` for any other element type.
pub(super) fn decode(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f32>> {
    let values = match dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|b| {
                let mut word = [0u8; 8];
                word.copy_from_slice(b);
                f64::from_le_bytes(word) as f32
            })
            .collect(),
        Dtype::F16 => half_words(bytes).map(f16_to_f32).collect(),
        Dtype::BF16 => half_words(bytes)
            .map(|h| f32::from_bits((h as u32) << 16))
            .collect(),
        _ => return None,
    };
    Some(values)
}

fn half_words(bytes: &[u8]) -> impl Iterator<Item = u16> + '_ {
    bytes
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
}

/// IEEE half precision (1 sign, 5 exponent, 10 mantissa bits) to `f32`, exactly.
fn f16_to_f32(h: u16) -> f32 {
    let negative = h & 0x8000 != 0;
    let exponent = ((h >> 10) & 0x1f) as u32;
    let mantissa = (h & 0x3ff) as u32;
    let sign = (negative as u32) << 31;
    match exponent {
        // Zero and subnormals: mantissa · 2⁻²⁴.
        0 => {
            let magnitude = mantissa as f32 * (-24f32).exp2();
            if negative {
                -magnitude
            } else {
                magnitude
            }
        }
        // Infinities and NaNs.
        0x1f => f32::from_bits(sign | 0x7f80_0000 | (mantissa << 13)),
        // Normal numbers: rebias the exponent from 15 to 127.
        _ => f32::from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_values_widen_exactly() {
        let cases = [
            (0x3c00, 1.0),
            (0xc000, -2.0),
            (0x7bff, 65504.0),
            (0x0001, 2f32.powi(-24)),
            (0x8000, -0.0),
            (0x3555, 0.333_251_95),
        ];
        for (bits, value) in cases {
            assert_eq!(f16_to_f32(bits), value, "f16 bits {bits:#06x}");
        }
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        // BF16 is the top half of an f32.
        let bytes = (-1.5f32).to_bits().to_le_bytes();
        assert_eq!(decode(Dtype::BF16, &bytes[2..]).unwrap(), vec![-1.5]);
        assert_eq!(decode(Dtype::I64, &[0; 8]), None);
    }
}
