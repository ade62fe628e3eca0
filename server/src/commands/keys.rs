//! `gatehouse keys rotate`.

use std::process::ExitCode;

use super::boot;
use crate::config::Config;

pub async fn rotate(config: &Config) -> anyhow::Result<ExitCode> {
    let (booted, _) = boot(config).await?;
    let secrets = &booted.secrets;
    let rotation =
        gatehouse_app::services::keys::rotate(&booted.pool, &secrets.token_keys.cipher()).await?;
    for (account, column, why) in &rotation.failed {
        eprintln!("gatehouse: account {account} {column}: {why}; left as it was");
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
