//! Durations: what `humantime` reads (`"250ms"`, `"5s"`, `"2min"`, `"2m"`, `"1h"`, `"1h 30min"`), or a bare
//! number of seconds; in whole milliseconds, which is how the macros emit them and the configuration
//! writes them back.

use std::time::Duration;

use crate::{Error, ErrorKind};

/// Parses `"250ms"`, `"5s"`, `"2min"` (or `"2m"`), `"1h"`, `"1day"`, `"1h 30min"`, `"1.5s"` (the units of
/// `humantime`), or a bare number of seconds (`"5"`).
///
/// # Errors
/// Text that is not a duration, a duration that is not a whole number of milliseconds, or one of more
/// than `u64::MAX` milliseconds.
pub fn parse_duration(text: &str) -> Result<Duration, Error> {
    let trimmed = text.trim();
    let parsed = if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        // A bare number is seconds, as a TOML integer is; humantime wants a unit.
        trimmed.parse().map(Duration::from_secs).map_err(|_| ErrorKind::DurationTooLong)
    } else {
        humantime::parse_duration(trimmed).map_err(|e| match e {
            humantime::DurationError::NumberOverflow => ErrorKind::DurationTooLong,
            _ => ErrorKind::Duration,
        })
    };
    let duration = parsed.map_err(|kind| Error::new(text, kind))?;
    if duration.subsec_nanos() % 1_000_000 != 0 {
        return Err(Error::new(text, ErrorKind::DurationTooFine));
    }
    if u64::try_from(duration.as_millis()).is_err() {
        return Err(Error::new(text, ErrorKind::DurationTooLong));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> Result<u128, ErrorKind> {
        parse_duration(text).map(|d| d.as_millis()).map_err(|e| e.kind())
    }

    /// Every form the macros' and the configuration's own parsers accepted.
    #[test]
    fn the_forms_both_sides_accepted() {
        assert_eq!(ms("250ms"), Ok(250));
        assert_eq!(ms("5s"), Ok(5_000));
        assert_eq!(ms("2min"), Ok(120_000));
        assert_eq!(ms("2m"), Ok(120_000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        assert_eq!(ms("0s"), Ok(0));
        assert_eq!(ms(" 5 s "), Ok(5_000));
    }

    /// The configuration took `"5"` as five seconds while the macro refused it; both take it now.
    #[test]
    fn a_bare_number_is_seconds() {
        assert_eq!(ms("5"), Ok(5_000));
        assert_eq!(ms("0"), Ok(0));
    }

    #[test]
    fn what_humantime_adds() {
        assert_eq!(ms("1h 30min"), Ok(5_400_000));
        assert_eq!(ms("1.5s"), Ok(1_500));
        assert_eq!(ms("1day"), Ok(86_400_000));
        assert_eq!(ms("2000us"), Ok(2));
    }

    #[test]
    fn nonsense_is_refused_saying_what_is_expected() {
        for text in ["", "s", "5 fortnights", "soon", "-5s", "5s!"] {
            assert_eq!(ms(text), Err(ErrorKind::Duration), "{text:?}");
        }
        assert_eq!(ms("1500us"), Err(ErrorKind::DurationTooFine));
        assert_eq!(ms("99999999999999999999"), Err(ErrorKind::DurationTooLong));
        assert_eq!(ms("18446744073709551615s"), Err(ErrorKind::DurationTooLong));
        assert_eq!(
            parse_duration("5 fortnights").unwrap_err().to_string(),
            "`5 fortnights` is not a duration: write \"500ms\", \"5s\", \"2min\" or \"1h\" (a bare number is seconds)"
        );
    }
}
