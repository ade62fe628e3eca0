//! The one error type of every server function: what went wrong, in words for a person, and
//! for form input, which field and what was typed (never a password).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::views::FieldError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The HTTP status a script calling the function sees.
    pub status: u16,
    /// What went wrong, as a whole.
    pub message: String,
    /// Messages about single fields.
    pub fields: Vec<FieldError>,
    /// What was typed, to put back in the form.
    pub kept: Vec<(String, String)>,
}

impl AppError {
    pub fn refused(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            fields: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// Input to correct (422).
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        Self {
            status: 422,
            message: "Some fields need attention.".into(),
            fields,
            kept: Vec::new(),
        }
    }

    /// Keeps what was typed into these fields (never pass a password).
    pub fn keeping(mut self, kept: &[(&str, &str)]) -> Self {
        self.kept = kept
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self
    }

    /// The message for one field, if it has one.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| f.message.clone())
    }

    /// What was typed into `name`, to show it again.
    pub fn kept(&self, name: &str) -> Option<String> {
        self.kept
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(e)
            | ServerFnErrorErr::Deserialization(e)
            | ServerFnErrorErr::MissingArg(e) => {
                AppError::refused(400, format!("The request was malformed: {e}"))
            }
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failed");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                AppError::refused(
                    500,
                    "Something went wrong on our side. Try again in a moment.",
                )
            }
        }
    }
}
