//! Better Auth's HTTP API under /api/auth, for front ends written against Better Auth's
//! client: off unless BETTER_AUTH_COMPAT=true.

use url::Url;

use super::ConfigError;

#[derive(clap::Args, Clone, Debug)]
pub struct BetterAuthArgs {
    /// Answer Better Auth's REST API under /api/auth, so front ends using Better Auth's
    /// client (`createAuthClient({ baseURL })`) work unchanged.
    #[arg(long, env, default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub better_auth_compat: bool,

    /// The secret Better Auth's session cookie is signed with (HMAC-SHA256, as Better Auth
    /// signs it). Unset: SECRET_KEY.
    #[arg(long, env, global = true, hide_env_values = true)]
    pub better_auth_secret: Option<String>,

    /// Origins of front ends on other sites allowed to call /api/auth with the person's
    /// cookies (CORS with credentials), comma-separated: `https://app.example.com`.
    /// PUBLIC_URL's own origin is always trusted.
    #[arg(long, env, default_value = "", global = true)]
    pub trusted_origins: String,
}

/// What the Better Auth API needs beyond Gatehouse's own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BetterAuthConfig {
    /// Unset: SECRET_KEY signs the cookie.
    pub secret: Option<String>,
    /// Exactly as browsers send them in `Origin`.
    pub trusted_origins: Vec<String>,
}

impl BetterAuthArgs {
    /// None when the API is off.
    pub fn parse(&self) -> Result<Option<BetterAuthConfig>, ConfigError> {
        let trusted_origins = self
            .trusted_origins
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(origin)
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(secret) = &self.better_auth_secret {
            if secret.len() < 32 {
                return Err(ConfigError::new(
                    "BETTER_AUTH_SECRET",
                    "expected at least 32 characters (`openssl rand -hex 32` makes one)",
                ));
            }
        }
        Ok(self.better_auth_compat.then(|| BetterAuthConfig {
            secret: self.better_auth_secret.clone(),
            trusted_origins,
        }))
    }
}

/// An origin as a browser sends it: scheme, host and port, nothing after.
fn origin(given: &str) -> Result<String, ConfigError> {
    let problem = || {
        ConfigError::new(
            "TRUSTED_ORIGINS",
            format!("expected origins such as https://app.example.com (no path), not {given:?}"),
        )
    };
    let url = Url::parse(given).map_err(|_| problem())?;
    let origin = url.origin().ascii_serialization();
    let http = matches!(url.scheme(), "http" | "https");
    if !http || origin != given.trim_end_matches('/') {
        return Err(problem());
    }
    Ok(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(compat: bool, origins: &str, secret: Option<&str>) -> BetterAuthArgs {
        BetterAuthArgs {
            better_auth_compat: compat,
            better_auth_secret: secret.map(str::to_string),
            trusted_origins: origins.into(),
        }
    }

    #[test]
    fn off_unless_asked_for() {
        assert_eq!(args(false, "", None).parse(), Ok(None));
    }

    #[test]
    fn origins_are_kept_as_browsers_send_them() {
        let config = args(
            true,
            " https://app.example.com, http://localhost:5173/",
            None,
        )
        .parse()
        .unwrap()
        .unwrap();
        assert_eq!(
            config.trusted_origins,
            ["https://app.example.com", "http://localhost:5173"]
        );
    }

    #[test]
    fn a_path_or_another_scheme_is_not_an_origin() {
        for bad in [
            "https://app.example.com/login",
            "ftp://files.example.com",
            "app.example.com",
        ] {
            let error = args(true, bad, None).parse().unwrap_err();
            assert_eq!(error.variable, "TRUSTED_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn a_short_secret_is_refused_by_name() {
        let error = args(true, "", Some("short")).parse().unwrap_err();
        assert_eq!(error.variable, "BETTER_AUTH_SECRET");
    }
}
