//! What makes an acceptable name, email address and password.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::views::FieldError;

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 256;
pub const NAME_MAX: usize = 100;
/// RFC 5321's limit on a forward path.
pub const EMAIL_MAX: usize = 254;

/// The 19,640 most common passwords, one per line, lower-case: the list Django ships
/// (django/contrib/auth/common-passwords.txt.gz, Django 5.2, BSD-3-Clause).
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

fn error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
    }
}

/// The email as stored: trimmed and lower-case; or why it is not an address.
pub fn email(raw: &str) -> Result<String, FieldError> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err(error("email", "Enter your email address."));
    }
    if email.len() > EMAIL_MAX {
        return Err(error(
            "email",
            format!("An email address has at most {EMAIL_MAX} characters."),
        ));
    }
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
            && email.matches('@').count() == 1
    });
    if !valid {
        return Err(error(
            "email",
            "Enter an email address like name@example.com.",
        ));
    }
    Ok(email)
}

/// The name as stored: trimmed; or why it will not do.
pub fn name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(error("name", "Enter your name."));
    }
    if name.chars().count() > NAME_MAX {
        return Err(error(
            "name",
            format!("A name has at most {NAME_MAX} characters."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(error("name", "A name cannot contain control characters."));
    }
    Ok(name.to_string())
}

/// NIST 800-63B: length, not composition; refuse the commonest passwords and the email.
pub fn new_password(field: &str, password: &str, email: &str) -> Result<(), FieldError> {
    match password_length(password) {
        Some(PasswordLength::TooShort) => {
            return Err(error(
                field,
                format!("Use at least {PASSWORD_MIN} characters."),
            ))
        }
        Some(PasswordLength::TooLong) => {
            return Err(error(
                field,
                format!("Use at most {PASSWORD_MAX} characters."),
            ))
        }
        None => {}
    }
    let lower = password.to_lowercase();
    if common_passwords().contains(lower.as_str()) {
        return Err(error(
            field,
            "This password is one of the most common ones. Choose one that is harder to guess.",
        ));
    }
    if lower.trim() == email.trim().to_lowercase() {
        return Err(error(field, "Your password cannot be your email address."));
    }
    Ok(())
}

/// What is wrong with a new password's length, if anything: the first check of
/// [`new_password`], which Better Auth's API answers with codes of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordLength {
    TooShort,
    TooLong,
}

pub fn password_length(password: &str) -> Option<PasswordLength> {
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        Some(PasswordLength::TooShort)
    } else if length > PASSWORD_MAX {
        Some(PasswordLength::TooLong)
    } else {
        None
    }
}

/// Only local paths, so a sign-in link cannot send people elsewhere (no open redirect), and
/// short enough to ride in a cookie.
pub fn local_path(next: &str) -> Option<&str> {
    let ok = next.len() <= 1024
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_long_enough() {
        assert!(
            common_passwords().len() >= 10_000,
            "{}",
            common_passwords().len()
        );
    }

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        assert_eq!(email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@example.com",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords_need_length_not_composition() {
        assert!(new_password("password", "correct horse battery staple", "a@b.co").is_ok());
        assert!(new_password("password", "alllowercaseletters", "a@b.co").is_ok());
        assert!(new_password("password", "short", "a@b.co").is_err());
        assert!(new_password("password", &"x".repeat(257), "a@b.co").is_err());
        assert!(new_password("password", &"x".repeat(256), "a@b.co").is_ok());
        assert!(new_password("password", "password123", "a@b.co").is_err());
        assert!(new_password("password", "Ada@Example.com", "ada@example.com").is_err());
    }
}
