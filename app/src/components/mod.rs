//! Pieces shared by pages.

pub mod form;
pub mod layout;

/// A moment as pages show it: `2026-11-28 21:05 UTC`.
pub fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}
