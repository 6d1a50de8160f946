//! Helpers shared by the fuzz targets.

/// Personal values must never be echoed in an error (STYLE/DESIGN: personal data never in
/// logs or errors). Checked for inputs that look like identifiers: at least 8 characters made
/// of digits, `+`, `-`, `.` and spaces with at least 6 digits (RRNs, phone numbers, birth
/// dates, card and account numbers). Shorter or wordy inputs could legitimately occur in a
/// fixed message ("010", "must be"), so they are not checked.
pub fn assert_no_echo(input: &str, message: &str) {
    let t = input.trim();
    let identifier_like = t.chars().count() >= 8
        && t.chars().filter(char::is_ascii_digit).count() >= 6
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | ' '));
    assert!(
        !(identifier_like && message.contains(t)),
        "an error message echoes the input: {message:?}"
    );
}

/// A deterministic number from the input, for targets that need a second parameter.
pub fn seed_of(data: &[u8]) -> u32 {
    data.iter()
        .fold(2_166_136_261_u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(16_777_619))
}
