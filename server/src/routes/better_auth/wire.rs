//! Better Auth's JSON on the wire: its `user` and `session` objects (camelCase, dates as
//! JavaScript's `toJSON` writes them), its error body `{ code, message }` with the code made
//! from the message as better-call makes it, and its request bodies' field checks.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use gatehouse_app::services::policy::{self, PasswordLength};
use gatehouse_app::services::Refusal;
use gatehouse_app::views::{SessionRecord, UserRecord};
use serde::Serialize;
use serde_json::{Map, Value};

/// `2026-12-01T22:34:42.964Z`: UTC, milliseconds, as the client's date reviver expects.
fn date(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Better Auth's user object, with Gatehouse's columns as additional fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    id: String,
    name: String,
    email: String,
    email_verified: bool,
    image: Option<String>,
    created_at: String,
    updated_at: String,
    role: &'static str,
    tier: &'static str,
    is_whitelisted: bool,
}

impl From<UserRecord> for User {
    fn from(record: UserRecord) -> Self {
        let person = record.person;
        Self {
            id: person.id,
            name: person.name,
            email: person.email,
            email_verified: person.email_verified,
            image: record.image,
            created_at: date(record.created_at),
            updated_at: date(record.updated_at),
            role: person.role.as_str(),
            tier: person.tier.as_str(),
            is_whitelisted: person.whitelisted,
        }
    }
}

/// Better Auth's session object. Its `token` is the session's id: the secret token is
/// stored only as a digest and never handed to JavaScript (the cookie is HttpOnly for a
/// reason); `revoke-session` takes this id.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    id: String,
    token: String,
    user_id: String,
    expires_at: String,
    created_at: String,
    updated_at: String,
    ip_address: String,
    user_agent: String,
}

impl From<SessionRecord> for Session {
    fn from(record: SessionRecord) -> Self {
        Self {
            token: record.id.clone(),
            id: record.id,
            user_id: record.user_id,
            expires_at: date(record.expires_at),
            created_at: date(record.created_at),
            updated_at: date(record.updated_at),
            ip_address: record.ip_address.unwrap_or_default(),
            user_agent: record.user_agent.unwrap_or_default(),
        }
    }
}

/// An answer that is not a success, in Better Auth's shape.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    /// `{ code, message }`; None: an empty body, as Better Auth answers a call that needs a
    /// session.
    body: Option<(String, String)>,
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status,
            body: Some((code_of(&message), message)),
            retry_after: None,
        }
    }

    /// No session: 401 with an empty body.
    pub fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            body: None,
            retry_after: None,
        }
    }

    fn invalid(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message).with_code("VALIDATION_ERROR")
    }

    /// A new password's length, checked first, as Better Auth does.
    pub fn check_length(password: &str) -> Result<(), Self> {
        match policy::password_length(password) {
            Some(PasswordLength::TooShort) => {
                Err(Self::new(StatusCode::BAD_REQUEST, "Password too short"))
            }
            Some(PasswordLength::TooLong) => {
                Err(Self::new(StatusCode::BAD_REQUEST, "Password too long"))
            }
            None => Ok(()),
        }
    }

    /// Where Better Auth's code is not the one its message makes.
    pub(super) fn with_code(mut self, code: &str) -> Self {
        if let Some((own, _)) = &mut self.body {
            *own = code.to_string();
        }
        self
    }
}

/// better-call's code for a message: upper case, spaces as `_`, nothing else but A–Z, 0–9.
pub fn code_of(message: &str) -> String {
    message
        .to_uppercase()
        .replace(' ', "_")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            None => (self.status, [(header::CONTENT_TYPE, "application/json")]).into_response(),
            // Better Auth's rate limiter answers with a message only.
            Some((_, message)) if self.status == StatusCode::TOO_MANY_REQUESTS => {
                (self.status, Json(serde_json::json!({ "message": message }))).into_response()
            }
            Some((code, message)) => {
                let body = serde_json::json!({ "code": code, "message": message });
                (self.status, Json(body)).into_response()
            }
        };
        if let Some(seconds) = self.retry_after {
            let value = HeaderValue::from(seconds);
            response
                .headers_mut()
                .insert("x-retry-after", value.clone());
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let error = match &refusal {
            Refusal::InvalidCredentials => {
                Self::new(StatusCode::UNAUTHORIZED, "Invalid email or password")
            }
            Refusal::EmailNotVerified => Self::new(StatusCode::FORBIDDEN, "Email not verified"),
            Refusal::Unauthenticated => Self::unauthorized(),
            Refusal::LinkInvalid | Refusal::LinkExpired => {
                Self::new(StatusCode::BAD_REQUEST, "Invalid token")
            }
            Refusal::SignInAgain => Self::new(
                StatusCode::FORBIDDEN,
                "Session expired. Re-authenticate to perform this action.",
            ),
            Refusal::Banned(_) => Self::new(
                StatusCode::FORBIDDEN,
                "You have been banned from this application",
            )
            .with_code("BANNED_USER"),
            Refusal::RateLimited(_) => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests. Please try again later.",
            ),
            Refusal::Invalid(fields) if fields.iter().any(|f| f.field == "email") => {
                Self::new(StatusCode::BAD_REQUEST, "Invalid email")
            }
            Refusal::Invalid(fields) => Self::invalid(
                fields
                    .iter()
                    .map(|f| format!("[body.{}] {}", camel_case(&f.field), f.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            internal if internal.is_internal() => {
                tracing::error!(error = %internal, "a Better Auth API call failed");
                Self::new(status, "Something went wrong on our side; try again.")
                    .with_code("INTERNAL_SERVER_ERROR")
            }
            other => Self::new(status, other.to_string()),
        };
        Self {
            retry_after: refusal.retry_after(),
            ..error
        }
    }
}

/// `new_password` as Better Auth's bodies name it: `newPassword`.
fn camel_case(field: &str) -> String {
    let mut words = field.split('_');
    let mut name = words.next().unwrap_or_default().to_string();
    for word in words {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name
}

/// A request body: a JSON object, or (where Better Auth takes forms) a URL-encoded form.
pub struct Body(Map<String, Value>);

impl Body {
    pub fn parse(headers: &HeaderMap, bytes: &[u8], forms: bool) -> Result<Self, ApiError> {
        if bytes.is_empty() {
            return Ok(Self(Map::new()));
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        match media_type {
            "application/json" => match serde_json::from_slice(bytes) {
                Ok(Value::Object(fields)) => Ok(Self(fields)),
                Ok(other) => Err(Self::expected("body", "object", &other)),
                Err(_) => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "Body must be valid JSON",
                )),
            },
            "application/x-www-form-urlencoded" if forms => Ok(Self(
                url::form_urlencoded::parse(bytes)
                    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                    .collect(),
            )),
            _ => {
                let allowed = if forms {
                    "application/x-www-form-urlencoded, application/json"
                } else {
                    "application/json"
                };
                let given = if media_type.is_empty() {
                    "Content-Type is required".to_string()
                } else {
                    format!("Content-Type \"{media_type}\" is not allowed")
                };
                Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!("{given}. Allowed types: {allowed}"),
                )
                .with_code("UNSUPPORTED_MEDIA_TYPE"))
            }
        }
    }

    fn expected(path: &str, kind: &str, got: &Value) -> ApiError {
        let received = match got {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        ApiError::invalid(format!(
            "[{path}] Invalid input: expected {kind}, received {received}"
        ))
    }

    fn missing(field: &str, kind: &str) -> ApiError {
        ApiError::invalid(format!(
            "[body.{field}] Invalid input: expected {kind}, received undefined"
        ))
    }

    /// A query parameter that is not there, in zod's words.
    pub fn missing_query(field: &str) -> ApiError {
        ApiError::invalid(format!(
            "[query.{field}] Invalid input: expected string, received undefined"
        ))
    }

    pub fn string(&self, field: &str) -> Result<String, ApiError> {
        self.optional_string(field)?
            .ok_or_else(|| Self::missing(field, "string"))
    }

    pub fn optional_string(&self, field: &str) -> Result<Option<String>, ApiError> {
        match self.0.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(Self::expected(&format!("body.{field}"), "string", other)),
        }
    }

    /// Whether the body has `field` at all (a `null` counts).
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// Whether `field` is there with a value JavaScript calls truthy.
    pub fn is_truthy(&self, field: &str) -> bool {
        match self.0.get(field) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Number(n)) => n.as_f64() != Some(0.0),
            Some(_) => true,
        }
    }

    /// A form's `true`/`false` count as booleans too.
    pub fn optional_bool(&self, field: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
            Some(other) => Err(Self::expected(&format!("body.{field}"), "boolean", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_made_from_messages_as_better_call_makes_them() {
        assert_eq!(
            code_of("Invalid email or password"),
            "INVALID_EMAIL_OR_PASSWORD"
        );
        assert_eq!(code_of("Invalid callbackURL"), "INVALID_CALLBACKURL");
        assert_eq!(
            code_of("Session expired. Re-authenticate to perform this action."),
            "SESSION_EXPIRED_REAUTHENTICATE_TO_PERFORM_THIS_ACTION"
        );
    }

    #[test]
    fn field_names_are_camel_case() {
        assert_eq!(camel_case("new_password"), "newPassword");
        assert_eq!(camel_case("email"), "email");
    }

    #[test]
    fn dates_carry_milliseconds_and_z() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T22:34:42.9641Z").unwrap();
        assert_eq!(date(at.to_utc()), "2026-12-01T22:34:42.964Z");
    }
}
