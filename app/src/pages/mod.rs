//! One module per page.

pub mod admin;
pub mod artworks;
pub mod forgot_password;
pub mod home;
pub mod login;
pub mod not_found;
pub mod profile;
pub mod reset_password;
pub mod signup;
pub mod two_factor;
pub mod verify_email;
pub mod written;
