//! Helpers shared by the fuzz targets.

/// Every ASCII digit moved to another one (0→1 … 8→9, 9→1): same length, never a new leading
/// zero. Personal data never reaches an error message (DESIGN/STYLE), which the targets check
/// differentially: an input and its shifted twin that fail with the same rule must get the
/// same message. A message that quoted the value would differ, while fixed text and examples
/// in a message ("예: 010-0000-0000") are the same for both and never a false alarm.
pub fn shift_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(9) => '1',
            Some(d) => char::from_digit(d + 1, 10).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// A deterministic number from the input, for targets that need a second parameter.
pub fn seed_of(data: &[u8]) -> u32 {
    data.iter().fold(2_166_136_261_u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(16_777_619)
    })
}
