//! Keyset pagination: a page ends at a (created at, id) pair, which the next page's link
//! carries as `micros~id`. A page costs the same at any depth.

use chrono::{DateTime, TimeZone, Utc};

use super::Refusal;

/// Where a page ended, for the next page's link.
pub fn cursor(at: DateTime<Utc>, id: &str) -> String {
    format!("{}~{id}", at.timestamp_micros())
}

/// Reads a cursor from a link; empty means the first page.
pub fn parse_cursor(cursor: &str) -> Result<Option<(DateTime<Utc>, String)>, Refusal> {
    if cursor.is_empty() {
        return Ok(None);
    }
    let broken = || {
        Refusal::invalid(
            "after",
            "That page link is broken; start again from the first page.",
        )
    };
    let (micros, id) = cursor.split_once('~').ok_or_else(broken)?;
    let micros: i64 = micros.parse().map_err(|_| broken())?;
    // Rows are made after 1970 and before 10000; outside that PostgreSQL may not even hold
    // the time, and the query would fail rather than find nothing.
    if !(0..=253_402_300_799_999_999).contains(&micros) {
        return Err(broken());
    }
    let at = Utc.timestamp_micros(micros).single().ok_or_else(broken)?;
    Ok(Some((at, id.to_string())))
}

/// Keeps `size` rows of the `size + 1` a query fetched, and says where the next page starts
/// when there is one.
pub fn split<T>(
    mut rows: Vec<T>,
    size: i64,
    key: impl Fn(&T) -> (DateTime<Utc>, &str),
) -> (Vec<T>, Option<String>) {
    let size = size as usize;
    if rows.len() <= size {
        return (rows, None);
    }
    rows.truncate(size);
    let (at, id) = key(rows.last().expect("a full page"));
    let next = cursor(at, id);
    (rows, Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_a_broken_one_is_refused() {
        let at = Utc.timestamp_micros(1_795_000_000_123_456).unwrap();
        let text = cursor(at, "abc~def");
        assert_eq!(
            parse_cursor(&text).unwrap(),
            Some((at, "abc~def".to_string()))
        );
        assert_eq!(parse_cursor("").unwrap(), None);
        for broken in [
            "x",
            "12",
            "x~y",
            "99999999999999999999~a",
            "-1~a",
            "253402300800000000~a",
        ] {
            assert!(parse_cursor(broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn split_keeps_a_page_and_points_past_it() {
        let at = Utc.timestamp_micros(1).unwrap();
        let rows: Vec<(DateTime<Utc>, String)> = (0..3).map(|n| (at, n.to_string())).collect();
        let (page, next) = split(rows.clone(), 2, |r| (r.0, &r.1));
        assert_eq!(page.len(), 2);
        assert_eq!(next, Some(cursor(at, "1")));
        assert_eq!(split(rows, 3, |r| (r.0, &r.1)).1, None);
    }
}
