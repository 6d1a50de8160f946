//! 사업자등록번호 (Korean business registration number): `NNN-NN-NNNNN`, the last digit a
//! check digit over the first nine with weights 1,3,7,1,3,7,1,3,5 (plus the tens of the ninth
//! digit times 5).

/// Weights of the first nine digits.
const WEIGHTS: [u32; 9] = [1, 3, 7, 1, 3, 7, 1, 3, 5];

/// Why a business registration number is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BusinessNumberError {
    /// Not `NNN-NN-NNNNN`.
    Format,
    /// The tenth digit is not the check digit of the first nine.
    CheckDigit,
}

/// The check digit of the first nine digits.
fn check_digit(first9: &[u32; 9]) -> u32 {
    let mut sum: u32 = first9.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    sum += first9[8] * 5 / 10;
    (10 - sum % 10) % 10
}

/// Checks the format `NNN-NN-NNNNN` (ASCII digits, hyphens where shown) and the check digit.
pub(crate) fn check(s: &str) -> Result<(), BusinessNumberError> {
    let bytes = s.as_bytes();
    let shape_ok = bytes.len() == 12
        && bytes.iter().enumerate().all(|(i, b)| match i {
            3 | 6 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(BusinessNumberError::Format);
    }
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    let (Some(first), Some(last)) = (digits.get(..9), digits.get(9)) else {
        return Err(BusinessNumberError::Format);
    };
    let mut first9 = [0u32; 9];
    first9.copy_from_slice(first);
    if check_digit(&first9) == *last {
        Ok(())
    } else {
        Err(BusinessNumberError::CheckDigit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_by_hand() {
        // 000-81-1234?: 0+0+0+8·1+1·3+1·7+2·1+3·3+4·5 = 49, + ⌊4·5/10⌋ = 2 → 51 → 9.
        assert_eq!(check_digit(&[0, 0, 0, 8, 1, 1, 2, 3, 4]), 9);
        assert_eq!(check("000-81-12349"), Ok(()));
        // 123-45-6789?: 1+6+21+4+15+42+7+24+45 = 165, + ⌊9·5/10⌋ = 4 → 169 → 1.
        assert_eq!(check_digit(&[1, 2, 3, 4, 5, 6, 7, 8, 9]), 1);
        assert_eq!(check("123-45-67891"), Ok(()));
        assert_eq!(check("123-45-67890"), Err(BusinessNumberError::CheckDigit));
        // the tens of the ninth digit count: 9·5 = 45 adds 4.
        assert_eq!(check_digit(&[0, 0, 0, 0, 0, 0, 0, 0, 9]), 1);
    }

    #[test]
    fn format_is_strict() {
        for bad in [
            "",
            "0008112349",
            "000-8112349",
            "000-81-1234",
            "000-81-123490",
            "00-081-12349",
            "000 81 12349",
            "000-81-1234９",
            "000-81-12349 ",
            "abc-de-fghij",
        ] {
            assert_eq!(check(bad), Err(BusinessNumberError::Format), "{bad:?}");
        }
    }

    #[test]
    fn every_wrong_last_digit_is_caught() {
        for last in 0..10u32 {
            let s = format!("000-81-1234{last}");
            assert_eq!(check(&s).is_ok(), last == 9, "{s}");
        }
    }
}
