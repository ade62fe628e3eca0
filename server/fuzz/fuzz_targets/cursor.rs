//! Paging cursors (`micros~id` in a next-page link): a cursor that reads re-encodes to one
//! that reads the same, its id kept whole; any id written in a cursor reads back as itself.
#![no_main]

use chrono::{TimeZone, Utc};
use gatehouse_app::services::paging::{cursor, parse_cursor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = gatehouse_fuzz::text(data) else {
        return;
    };
    match parse_cursor(text) {
        Ok(Some((at, id))) => {
            let again = cursor(at, &id);
            assert_eq!(parse_cursor(&again).unwrap(), Some((at, id)));
            // Only the number's spelling may differ (`+5`, `05`).
            assert!(text.ends_with(&again[again.find('~').unwrap()..]));
        }
        Ok(None) => assert!(text.is_empty()),
        Err(_) => {}
    }
    // The input as an id, at a time taken from its length.
    let micros = (text.len() as i64).wrapping_mul(1_000_000_007) % 253_402_300_800_000_000;
    let at = Utc.timestamp_micros(micros).unwrap();
    assert_eq!(
        parse_cursor(&cursor(at, text)).unwrap(),
        Some((at, text.to_string()))
    );
});
