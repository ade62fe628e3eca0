//! Connecting to PostgreSQL as libpq does for `sslmode` and `sslrootcert` (in the URL, or
//! PGSSLMODE / PGSSLROOTCERT), through rustls: `disable`, `prefer` (TLS if the server offers
//! it, unverified), `require` (TLS; unverified unless `sslrootcert` is given, then as
//! `verify-ca`), `verify-ca` (the chain, against `sslrootcert` or the system's roots) and
//! `verify-full` (the chain and the host name). Without any `sslmode`, the connection is made
//! as before, without TLS.

use std::sync::Arc;

use diesel::{ConnectionError, ConnectionResult};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// What the URL asks of TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, String> {
        match value {
            "disable" | "allow" => Ok(SslMode::Disable),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-ca" => Ok(SslMode::VerifyCa),
            "verify-full" => Ok(SslMode::VerifyFull),
            other => Err(format!(
                "sslmode: expected disable, prefer, require, verify-ca or verify-full, got `{other}`"
            )),
        }
    }
}

/// A URL's TLS settings, and the URL without them (tokio-postgres knows neither
/// `sslrootcert` nor the verify modes).
#[derive(Debug, PartialEq, Eq)]
pub struct Tls {
    pub mode: Option<SslMode>,
    pub root_cert: Option<String>,
    pub url: String,
}

/// Reads `sslmode` and `sslrootcert` from `url`, or else from `env` (PGSSLMODE,
/// PGSSLROOTCERT).
pub fn tls_of(url: &str, env: impl Fn(&str) -> Option<String>) -> Result<Tls, String> {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return Ok(Tls {
            mode: None,
            root_cert: None,
            url: url.to_string(),
        });
    };
    let (mut mode, mut root_cert, mut kept) = (None, None, Vec::new());
    for (key, value) in parsed.query_pairs() {
        match &*key {
            "sslmode" => mode = Some(value.into_owned()),
            "sslrootcert" => root_cert = Some(value.into_owned()),
            _ => kept.push((key.into_owned(), value.into_owned())),
        }
    }
    let mode = mode.or_else(|| env("PGSSLMODE"));
    let root_cert = root_cert.or_else(|| env("PGSSLROOTCERT"));
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok(Tls {
        mode: mode.as_deref().map(SslMode::parse).transpose()?,
        root_cert,
        url: parsed.to_string(),
    })
}

/// A connection to `url`, with TLS as its `sslmode` asks.
pub async fn establish(url: &str) -> ConnectionResult<AsyncPgConnection> {
    let tls = tls_of(url, |name| std::env::var(name).ok())
        .map_err(ConnectionError::InvalidConnectionUrl)?;
    let mode = match tls.mode {
        // The URL as given, character for character, as before there was TLS.
        None => return AsyncPgConnection::establish(url).await,
        Some(SslMode::Disable) => return AsyncPgConnection::establish(&tls.url).await,
        Some(mode) => mode,
    };
    let mut config: tokio_postgres::Config = tls
        .url
        .parse()
        .map_err(|e| ConnectionError::InvalidConnectionUrl(format!("{e}")))?;
    config.ssl_mode(match mode {
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        _ => tokio_postgres::config::SslMode::Require,
    });
    let client_config = client_config(mode, tls.root_cert.as_deref())
        .map_err(ConnectionError::InvalidConnectionUrl)?;
    let connector = tokio_postgres_rustls::MakeRustlsConnect::new(client_config);
    let (client, connection) = config.connect(connector).await.map_err(|e| {
        let detail = std::error::Error::source(&e).map_or(e.to_string(), |s| format!("{e}: {s}"));
        let said = if detail.contains("certificate") || detail.contains("Certificate") {
            format!(
                "TLS to PostgreSQL failed: its certificate did not verify ({detail}); set \
                 sslrootcert=PATH to the CA that signed it, or sslmode=require to encrypt \
                 without verifying"
            )
        } else {
            detail
        };
        ConnectionError::BadConnection(said)
    })?;
    AsyncPgConnection::try_from_client_and_connection(client, connection).await
}

fn client_config(mode: SslMode, root_cert: Option<&str>) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let roots = || -> Result<Arc<RootCertStore>, String> {
        let mut roots = RootCertStore::empty();
        match root_cert {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| format!("sslrootcert: cannot read {path}: {e}"))?;
                for cert in certs {
                    let cert = cert.map_err(|e| format!("sslrootcert: {path}: {e}"))?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("sslrootcert: {path}: {e}"))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        Ok(Arc::new(roots))
    };
    let verify_chain = matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull)
        || (mode == SslMode::Require && root_cert.is_some());
    let config = if mode == SslMode::VerifyFull {
        builder
            .with_root_certificates(roots()?)
            .with_no_client_auth()
    } else {
        let chain = if verify_chain {
            let verifier = WebPkiServerVerifier::builder_with_provider(roots()?, provider.clone())
                .build()
                .map_err(|e| e.to_string())?;
            Some(verifier)
        } else {
            None
        };
        let verifier = Arc::new(Lenient { chain, provider });
        builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth()
    };
    Ok(config)
}

/// `verify-ca` (the chain, not the name) and `require`/`prefer` (neither), as libpq has
/// them; the handshake's signatures are checked in every mode.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_settings_come_from_the_url_then_the_environment_and_leave_the_url() {
        let none = |_: &str| None;
        let tls = tls_of(
            "postgresql://a@db.example:5432/g?sslmode=verify-full&sslrootcert=%2Fca.pem&application_name=x",
            none,
        )
        .unwrap();
        assert_eq!(tls.mode, Some(SslMode::VerifyFull));
        assert_eq!(tls.root_cert.as_deref(), Some("/ca.pem"));
        assert_eq!(
            tls.url,
            "postgresql://a@db.example:5432/g?application_name=x"
        );
        let env = |name: &str| (name == "PGSSLMODE").then(|| "require".to_string());
        let tls = tls_of("postgresql://a@db.example/g", env).unwrap();
        assert_eq!(
            (tls.mode, tls.url.as_str()),
            (Some(SslMode::Require), "postgresql://a@db.example/g")
        );
        assert_eq!(tls_of("postgresql://a@db/g", none).unwrap().mode, None);
        let error = tls_of("postgresql://a@db/g?sslmode=always", none).unwrap_err();
        assert!(
            error.starts_with("sslmode: expected disable, prefer"),
            "{error}"
        );
    }
}
