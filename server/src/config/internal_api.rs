//! The processing backend's bearer tokens for /api/internal.

use super::ConfigError;

#[derive(clap::Args, Clone, Debug)]
pub struct InternalApiArgs {
    /// Bearer tokens for the processing backend's internal API, comma-separated (each at
    /// least 32 characters; several allow rotation). Unset: the internal API refuses everyone.
    #[arg(long, env, default_value = "", global = true, hide_env_values = true)]
    pub internal_api_tokens: String,
}

impl InternalApiArgs {
    /// The tokens; none closes the API.
    pub fn parse(&self) -> Result<Vec<String>, ConfigError> {
        let tokens: Vec<String> = self
            .internal_api_tokens
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if tokens.iter().any(|t| t.len() < 32) {
            return Err(ConfigError::new(
                "INTERNAL_API_TOKENS",
                "expected tokens of at least 32 characters (`openssl rand -hex 32` makes one)",
            ));
        }
        Ok(tokens)
    }
}
