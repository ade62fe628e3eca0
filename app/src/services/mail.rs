//! Outgoing mail: through SMTP when SMTP_URL is set, otherwise written to the log in full
//! (said plainly at start-up), so a local install can still follow its links.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// One plain-text message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP_URL: {0}")]
    Url(String),
    #[error(
        "MAIL_FROM: expected an address such as `Gatehouse <no-reply@gatehouse.example>` ({0})"
    )]
    From(String),
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("SMTP delivery failed: {0}")]
    Smtp(String),
}

#[derive(Clone)]
pub struct Mailer {
    route: Route,
}

#[derive(Clone)]
enum Route {
    /// Mail goes to the log.
    Log,
    Smtp {
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
    },
}

impl Mailer {
    /// SMTP when `smtp_url` is given (`smtp://`, `smtps://`, with `?tls=required` for
    /// STARTTLS), else the log.
    pub fn new(smtp_url: Option<&str>, from: &str) -> Result<Self, MailError> {
        let route = match smtp_url {
            None => Route::Log,
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::Url(e.to_string()))?
                    .build();
                let from = from
                    .parse()
                    .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
                Route::Smtp {
                    transport: Box::new(transport),
                    from,
                }
            }
        };
        Ok(Self { route })
    }

    /// Whether mail goes out through SMTP (else to the log).
    pub fn sends(&self) -> bool {
        matches!(self.route, Route::Smtp { .. })
    }

    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        match &self.route {
            Route::Log => {
                tracing::info!(
                    to = %mail.to,
                    subject = %mail.subject,
                    "mail (no SMTP_URL set, so it is logged instead of sent):\n{}",
                    mail.body
                );
                Ok(())
            }
            Route::Smtp { transport, from } => {
                let to: Mailbox = mail
                    .to
                    .parse()
                    .map_err(|e: lettre::address::AddressError| MailError::Build(e.to_string()))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&mail.subject)
                    .body(mail.body.clone())
                    .map_err(|e| MailError::Build(e.to_string()))?;
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| MailError::Smtp(e.to_string()))
            }
        }
    }
}
