//! A local SMTP sink: a small server on 127.0.0.1 that speaks enough SMTP for a real client
//! (lettre, inside Gatehouse) to deliver to it, and keeps every message for the test to read.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One delivered message: envelope recipients, headers and decoded text body.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

impl Delivered {
    /// The first link in the body that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> String {
        let start = self
            .body
            .find(prefix)
            .unwrap_or_else(|| panic!("no link starting {prefix} in:\n{}", self.body));
        self.body[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }
}

#[derive(Clone)]
pub struct MailSink {
    pub url: String,
    inbox: Arc<Mutex<Vec<Delivered>>>,
}

impl MailSink {
    pub async fn start() -> Self {
        Self::greeting_after(Duration::ZERO).await
    }

    /// A sink that waits `delay` before it greets each connection, like a slow relay.
    pub async fn greeting_after(delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let kept = inbox.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = session(stream, kept).await;
                });
            }
        });
        Self { url, inbox }
    }

    /// Everything delivered to `address` so far.
    pub fn to(&self, address: &str) -> Vec<Delivered> {
        self.inbox
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.to.iter().any(|to| to == address))
            .cloned()
            .collect()
    }

    /// Waits (up to 10 s) until `address` has `count` messages, and returns the last one.
    pub async fn wait_for(&self, address: &str, count: usize) -> Delivered {
        let started = Instant::now();
        loop {
            let mail = self.to(address);
            if mail.len() >= count {
                return mail[count - 1].clone();
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{address} received {} message(s), expected {count}",
                mail.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn count(&self) -> usize {
        self.inbox.lock().unwrap().len()
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    inbox: Arc<Mutex<Vec<Delivered>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") || command.starts_with("HELO") {
            write
                .write_all(b"250-sink.test\r\n250 8BITMIME\r\n")
                .await?;
        } else if command.starts_with("MAIL FROM") {
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>');
            to.push(address.to_string());
            write.write_all(b"250 OK\r\n").await?;
        } else if command == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = Vec::new();
            loop {
                line.clear();
                lines.read_line(&mut line).await?;
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                // Undo dot-stuffing.
                data.push(line.strip_prefix('.').unwrap_or(&line).to_string());
            }
            inbox
                .lock()
                .unwrap()
                .push(parse(to.clone(), &data.concat()));
            write.write_all(b"250 OK queued\r\n").await?;
        } else if command == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"250 OK\r\n").await?;
        }
    }
}

fn parse(to: Vec<String>, message: &str) -> Delivered {
    let (headers, body) = message.split_once("\r\n\r\n").unwrap_or((message, ""));
    let header = |name: &str| {
        headers
            .lines()
            .find_map(|l| {
                let (key, value) = l.split_once(':')?;
                key.eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_string())
            })
            .unwrap_or_default()
    };
    let body = match header("Content-Transfer-Encoding")
        .to_ascii_lowercase()
        .as_str()
    {
        "base64" => {
            let joined: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .unwrap(),
            )
            .unwrap()
        }
        "quoted-printable" => decode_quoted_printable(body),
        _ => body.to_string(),
    };
    Delivered {
        to,
        subject: header("Subject"),
        body: body.replace("\r\n", "\n"),
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() + 1 {
            if let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
