//! Rates: `"30/min"`, `"5/s"`, `"100/h"`, `"1000/day"`, or a bare number of calls per minute.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::{Error, ErrorKind};

/// A steady rate: `count` calls per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Calls allowed per period.
    pub count: u32,
    /// The period.
    pub per: Duration,
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "min",
            3600 => "h",
            86_400 => "day",
            _ => return write!(f, "{}/{}ms", self.count, self.per.as_millis()),
        };
        write!(f, "{}/{unit}", self.count)
    }
}

impl Rate {
    /// The time one call's share of the budget takes to come back (the GCRA emission interval).
    pub fn interval(&self) -> Duration {
        self.per / self.count.max(1)
    }
}

/// Parses `"30/min"`, `"5/s"`, `"100/h"`, `"1000/day"` (also `sec`/`second`, `m`/`minute`, `hour`, `d`), or a
/// bare number of calls per minute (`"30"`, what `#[mcp_tool(rate = 30)]` means too). At least one call.
impl FromStr for Rate {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || Error::new(text, ErrorKind::Rate);
        let (count, unit) = text.split_once('/').unwrap_or((text, "min"));
        let count: u32 = count.trim().parse().ok().filter(|c| *c > 0).ok_or_else(bad)?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            "d" | "day" => Duration::from_secs(86_400),
            _ => return Err(bad()),
        };
        Ok(Self { count, per })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(text: &str) -> Result<(u32, u64), ErrorKind> {
        text.parse::<Rate>().map(|r| (r.count, r.per.as_secs())).map_err(|e| e.kind())
    }

    #[test]
    fn every_unit_parses() {
        assert_eq!(rate("30/min"), Ok((30, 60)));
        assert_eq!(rate("30/m"), Ok((30, 60)));
        assert_eq!(rate("5/s"), Ok((5, 1)));
        assert_eq!(rate("5/sec"), Ok((5, 1)));
        assert_eq!(rate("100/h"), Ok((100, 3600)));
        assert_eq!(rate("1000/day"), Ok((1000, 86_400)));
        assert_eq!(rate(" 20 / min "), Ok((20, 60)));
    }

    /// The runtime took `"5"` as 5 calls a minute while the macro refused it; both now read it the way the
    /// attribute's integer form `rate = 5` always read.
    #[test]
    fn a_bare_number_is_calls_per_minute() {
        assert_eq!(rate("5"), Ok((5, 60)));
        assert_eq!("5".parse::<Rate>().unwrap(), "5/min".parse().unwrap());
    }

    #[test]
    fn nonsense_and_zero_are_refused_saying_what_is_expected() {
        for text in ["0/min", "0", "-1", "x", "", "30/fortnight", "30/", "/min", "4294967296/s", "1.5/s"] {
            assert_eq!(rate(text), Err(ErrorKind::Rate), "{text}");
        }
        let e = "30/fortnight".parse::<Rate>().unwrap_err();
        assert_eq!(e.to_string(), "`30/fortnight` is not a rate: write \"30/min\", \"5/s\", \"100/h\" or \"1000/day\"");
    }

    #[test]
    fn display_writes_what_parses_back() {
        for text in ["30/min", "5/s", "100/h", "1000/day"] {
            assert_eq!(text.parse::<Rate>().unwrap().to_string(), text);
        }
        assert_eq!(Rate { count: 3, per: Duration::from_millis(250) }.to_string(), "3/250ms");
        assert_eq!("30/min".parse::<Rate>().unwrap().interval(), Duration::from_secs(2));
    }
}
