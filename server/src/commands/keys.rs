//! `gatehouse keys rotate` and `gatehouse keys rotate-jwt`.

use std::process::ExitCode;

use super::boot;
use crate::config::Config;

pub async fn rotate(config: &Config) -> anyhow::Result<ExitCode> {
    let (booted, _) = boot(config).await?;
    let secrets = &booted.secrets;
    let rotation =
        gatehouse_app::services::keys::rotate(&booted.pool, &secrets.token_keys.cipher()).await?;
    for (row, column, why) in &rotation.failed {
        eprintln!("gatehouse: {row} {column}: {why}; left as it was");
    }
    println!(
        "{} token(s) re-encrypted under key `{}`, {} already current, {} failed",
        rotation.rewritten,
        secrets.token_keys.current().id,
        rotation.current,
        rotation.failed.len()
    );
    Ok(if rotation.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub async fn rotate_jwt(config: &Config) -> anyhow::Result<ExitCode> {
    let (booted, _) = boot(config).await?;
    let cipher = booted.secrets.token_keys.cipher();
    let kid = gatehouse_app::services::jwt::rotate(&booted.pool, &cipher).await?;
    println!(
        "new JWT signing key `{kid}`; the others stay published for {} minutes",
        gatehouse_app::services::jwt::TOKEN_LIFETIME.num_minutes()
    );
    Ok(ExitCode::SUCCESS)
}
