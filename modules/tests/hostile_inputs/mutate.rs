//! Seeded mutations of valid files: bit flips, bytes and 8-byte words set to values that
//! stress parsers (zero, sign bits, the maximum, bincode's varint markers, line breaks and
//! separators), truncation, insertion, deletion and duplication of runs.

use strata_tensor::Rng;

/// Bytes that mean something to one of the formats: 0xFB..=0xFE announce 2-, 4-, 8- and
/// 16-byte bincode varints; `\n`, `,`, `-`, `.` and `e` matter to CSV; 0x1F 0x8B start gzip.
const INTERESTING_BYTES: [u8; 16] = [
    0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFB, 0xFC, 0xFD, 0xFE, b'\n', b',', b'-', b'.', b'e', 0x1F, 0x8B,
];

/// Words that stress length fields and counts once written little- or big-endian.
const INTERESTING_WORDS: [u64; 8] = [
    0,
    1,
    1 << 31,
    1 << 32,
    1 << 60,
    (1 << 62) + 1,
    u32::MAX as u64,
    u64::MAX,
];

/// Longest run inserted, deleted or duplicated at once.
const MAX_RUN: usize = 64;

/// `seed` with one to four mutations.
pub fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = |rng: &mut Rng, len: usize| rng.below(len.max(1));
        match rng.below(8) {
            0 if !bytes.is_empty() => {
                let i = at(rng, bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 if !bytes.is_empty() => {
                let i = at(rng, bytes.len());
                bytes[i] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())];
            }
            2 => {
                let word = INTERESTING_WORDS[rng.below(INTERESTING_WORDS.len())];
                let word = if rng.below(2) == 0 {
                    word.to_le_bytes()
                } else {
                    word.to_be_bytes()
                };
                // Sometimes behind a varint marker, so bincode reads it as a u64 length.
                let marked: Vec<u8> = if rng.below(2) == 0 {
                    std::iter::once(0xFD).chain(word).collect()
                } else {
                    word[4 * rng.below(2)..].to_vec()
                };
                let i = at(rng, bytes.len());
                let end = (i + marked.len()).min(bytes.len());
                bytes.splice(i..end, marked);
            }
            3 => bytes.truncate(at(rng, bytes.len() + 1)),
            4 => {
                let i = at(rng, bytes.len() + 1);
                let run: Vec<u8> = (0..1 + rng.below(MAX_RUN))
                    .map(|_| rng.next_u64() as u8)
                    .collect();
                bytes.splice(i..i, run);
            }
            5 if !bytes.is_empty() => {
                let i = at(rng, bytes.len());
                let end = (i + 1 + rng.below(MAX_RUN)).min(bytes.len());
                bytes.drain(i..end);
            }
            6 if !bytes.is_empty() => {
                let i = at(rng, bytes.len());
                let end = (i + 1 + rng.below(MAX_RUN)).min(bytes.len());
                let run = bytes[i..end].to_vec();
                let to = at(rng, bytes.len() + 1);
                bytes.splice(to..to, run);
            }
            _ => {
                let i = at(rng, bytes.len() + 1);
                bytes.insert(i, rng.next_u64() as u8);
            }
        }
    }
    bytes
}
