//! The keys Gatehouse needs: SECRET_KEY for its own cookies and TOKEN_ENCRYPTION_KEYS for
//! provider tokens at rest. Locally, missing keys are made once and kept in the data folder;
//! on an https deployment they must be configured.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::config::{Config, ConfigError};
pub use crate::config::{SecretKey, TokenKey, TokenKeys};

/// Where generated keys are kept, inside the data folder.
pub const SECRETS_FILE: &str = "secrets.env";

/// The keys in force.
#[derive(Clone, Debug)]
pub struct Secrets {
    pub secret_key: SecretKey,
    pub token_keys: TokenKeys,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(transparent)]
    Missing(#[from] ConfigError),
    #[error("{path}: {problem}")]
    File { path: PathBuf, problem: String },
}

/// The configured keys; locally (not https), missing ones come from, or are made and kept
/// in, `DATA_DIR/secrets.env`.
pub fn resolve(config: &Config) -> Result<Secrets, SecretsError> {
    let configured = &config.keys;
    if let (Some(secret_key), Some(token_keys)) =
        (&configured.secret_key, &configured.token_encryption_keys)
    {
        return Ok(Secrets {
            secret_key: secret_key.clone(),
            token_keys: token_keys.clone(),
        });
    }
    if config.public_url.is_https() {
        let variable = if configured.secret_key.is_none() {
            "SECRET_KEY"
        } else {
            "TOKEN_ENCRYPTION_KEYS"
        };
        return Err(ConfigError::new(
            variable,
            "required when PUBLIC_URL is https: generated keys are only for running locally",
        )
        .into());
    }
    let path = config.database.data_dir.join(SECRETS_FILE);
    let mut kept = read_kept(&path)?;
    let secret_key = match &configured.secret_key {
        Some(key) => key.clone(),
        None => kept.secret_key.take().unwrap_or_else(SecretKey::generate),
    };
    let token_keys = match &configured.token_encryption_keys {
        Some(keys) => keys.clone(),
        None => kept.token_keys.take().unwrap_or_else(TokenKeys::generate),
    };
    if !kept.complete {
        write_kept(&path, &secret_key, &token_keys)?;
        tracing::warn!(
            path = %path.display(),
            "generated SECRET_KEY and TOKEN_ENCRYPTION_KEYS for local use and kept them in the \
             data folder; set both in the environment for a real deployment"
        );
    }
    Ok(Secrets {
        secret_key,
        token_keys,
    })
}

struct Kept {
    secret_key: Option<SecretKey>,
    token_keys: Option<TokenKeys>,
    complete: bool,
}

fn read_kept(path: &Path) -> Result<Kept, SecretsError> {
    let mut kept = Kept {
        secret_key: None,
        token_keys: None,
        complete: false,
    };
    if !path.exists() {
        return Ok(kept);
    }
    let file_error = |problem: String| SecretsError::File {
        path: path.to_path_buf(),
        problem,
    };
    let entries = dotenvy::from_path_iter(path).map_err(|e| file_error(e.to_string()))?;
    for entry in entries {
        let (name, value) = entry.map_err(|e| file_error(e.to_string()))?;
        match name.as_str() {
            "SECRET_KEY" => kept.secret_key = Some(value.parse().map_err(file_error)?),
            "TOKEN_ENCRYPTION_KEYS" => kept.token_keys = Some(value.parse().map_err(file_error)?),
            _ => {}
        }
    }
    kept.complete = kept.secret_key.is_some() && kept.token_keys.is_some();
    Ok(kept)
}

fn write_kept(
    path: &Path,
    secret_key: &SecretKey,
    token_keys: &TokenKeys,
) -> Result<(), SecretsError> {
    let file_error = |e: std::io::Error| SecretsError::File {
        path: path.to_path_buf(),
        problem: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(file_error)?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(file_error)?;
    write!(
        file,
        "# Made by Gatehouse for local use. Keep it secret; set these in the environment for a deployment.\n\
         SECRET_KEY={}\nTOKEN_ENCRYPTION_KEYS={}\n",
        secret_key.to_hex(),
        token_keys.to_config_value()
    )
    .map_err(file_error)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn settings(data_dir: &Path, extra: &[&str]) -> Config {
        let mut argv = vec!["gatehouse", "--data-dir", data_dir.to_str().unwrap()];
        argv.extend_from_slice(extra);
        // Keys alone are under test: an https address gets a mail server, as it must.
        if extra.contains(&"--public-url") {
            argv.extend(["--smtp-url", "smtp://mail.example:25"]);
        }
        let settings = Cli::try_parse_from(argv).unwrap().settings;
        settings.parse_with(|_| None).unwrap()
    }

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn keys_parse_only_in_their_documented_form() {
        assert!(KEY.parse::<SecretKey>().is_ok());
        assert!("abc".parse::<SecretKey>().is_err());
        assert!(KEY[..62].parse::<SecretKey>().is_err());

        let keys: TokenKeys = format!("k2:{KEY}, k1:{KEY}").parse().unwrap();
        assert_eq!(keys.current().id, "k2");
        assert!(keys.get("k1").is_some());
        assert!(keys.get("k3").is_none());
        for bad in [
            "",
            "k1",
            &format!("k1:{KEY},k1:{KEY}"),
            &format!("bad id:{KEY}"),
            "k1:00",
        ] {
            assert!(bad.parse::<TokenKeys>().is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let keys: TokenKeys = format!("k1:{KEY}").parse().unwrap();
        let secret: SecretKey = KEY.parse().unwrap();
        let shown = format!("{keys:?} {secret:?}");
        assert!(!shown.contains("00112233"), "{shown}");
        assert!(shown.contains("k1"));
    }

    #[test]
    fn local_keys_are_made_once_and_kept_privately() {
        let dir = tempfile::tempdir().unwrap();
        let first = resolve(&settings(dir.path(), &[])).unwrap();
        let file = dir.path().join(SECRETS_FILE);
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let second = resolve(&settings(dir.path(), &[])).unwrap();
        assert_eq!(first.secret_key, second.secret_key);
        assert_eq!(first.token_keys, second.token_keys);

        // A configured key wins over a kept one.
        let configured = resolve(&settings(dir.path(), &["--secret-key", KEY])).unwrap();
        assert_eq!(configured.secret_key, KEY.parse().unwrap());
        assert_eq!(configured.token_keys, first.token_keys);
    }

    #[test]
    fn https_requires_configured_keys() {
        let dir = tempfile::tempdir().unwrap();
        let https = ["--public-url", "https://gatehouse.example"];
        let error = resolve(&settings(dir.path(), &https))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("SECRET_KEY: required when PUBLIC_URL is https"),
            "{error}"
        );
        assert!(!dir.path().join(SECRETS_FILE).exists(), "nothing generated");

        let token_keys = format!("k1:{KEY}");
        let mut args = https.to_vec();
        args.extend(["--secret-key", KEY]);
        let error = resolve(&settings(dir.path(), &args))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("TOKEN_ENCRYPTION_KEYS: required"),
            "{error}"
        );
        args.extend(["--token-encryption-keys", &token_keys]);
        assert!(resolve(&settings(dir.path(), &args)).is_ok());
    }
}
