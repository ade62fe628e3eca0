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

    /// The backends that may be named as a JWT's audience, comma-separated
    /// (`https://api.example.com,render-worker`): `GET /api/auth/token?audience=…` signs a
    /// token for that one only, and anything else is refused. Unasked, a token is for
    /// PUBLIC_URL.
    #[arg(long, env, default_value = "", global = true)]
    pub jwt_audiences: String,
}

/// What the Better Auth API needs beyond Gatehouse's own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BetterAuthConfig {
    /// Unset: SECRET_KEY signs the cookie.
    pub secret: Option<String>,
    /// Exactly as browsers send them in `Origin`.
    pub trusted_origins: Vec<String>,
    /// JWT_AUDIENCES: the audiences a JWT may be asked for besides PUBLIC_URL.
    pub jwt_audiences: Vec<String>,
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
        let jwt_audiences = self
            .jwt_audiences
            .split(',')
            .map(str::trim)
            .filter(|audience| !audience.is_empty())
            .map(audience)
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
            jwt_audiences,
        }))
    }
}

/// A backend's name as a token's `aud` carries it: a URL or a plain name, printable, with no
/// spaces, at most 200 characters.
fn audience(given: &str) -> Result<String, ConfigError> {
    let printable = given.chars().all(|c| c.is_ascii_graphic());
    if !printable || given.len() > 200 {
        return Err(ConfigError::new(
            "JWT_AUDIENCES",
            format!(
                "expected names such as https://api.example.com (printable, no spaces, at \
                 most 200 characters), not {given:?}"
            ),
        ));
    }
    Ok(given.to_string())
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
            jwt_audiences: String::new(),
        }
    }

    #[test]
    fn jwt_audiences_are_a_list_of_printable_names() {
        let mut given = args(true, "", None);
        given.jwt_audiences = " https://api.example.com, render-worker ,".into();
        let config = given.parse().unwrap().unwrap();
        assert_eq!(
            config.jwt_audiences,
            ["https://api.example.com", "render-worker"]
        );
        given.jwt_audiences = "https://api.example.com,two words".into();
        let error = given.parse().unwrap_err();
        assert_eq!(error.variable, "JWT_AUDIENCES");
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
