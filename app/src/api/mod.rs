//! `#[server]` functions: each authenticates, authorises, validates and calls a service.
//! All are POST, posted as plain forms by pages without JavaScript.

pub mod admin;
pub mod artworks;
pub mod auth;
mod error;
#[cfg(feature = "ssr")]
pub mod invitation;
pub mod passkeys;
pub mod portal;
pub mod profile;
#[cfg(feature = "ssr")]
pub mod request;
pub mod two_factor;
pub mod written;

pub use error::AppError;
