//! `gatehouse keys rotate`: every stored provider token, JWT signing key and
//! authenticator-app secret re-encrypted under the newest key, and any clear-text token
//! (Better Auth keeps them in the clear) encrypted for the first time. A value no configured
//! key opens is left as it is and reported.

use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;

use super::crypto::{account_aad, TokenCipher};
use super::jwt;
use super::two_factor::{codes_aad, secret_aad};
use super::Refusal;
use crate::db::accounts::{self, StoredTokens};
use crate::db::{jwks, two_factor, DbPool};

const BATCH: i64 = 500;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Values now under the newest key that were not before.
    pub rewritten: usize,
    /// Values that were already under the newest key.
    pub current: usize,
    /// (row, column, why) for values left as they were; the row is `account <id>`,
    /// `jwks <id>` or `twoFactor <id>`.
    pub failed: Vec<(String, String, String)>,
}

pub async fn rotate(pool: &DbPool, cipher: &TokenCipher) -> Result<Rotation, Refusal> {
    let mut rotation = Rotation::default();
    let mut after = String::new();
    loop {
        let mut conn = pool.get().await?;
        let (batch, last) = conn
            .transaction::<_, diesel::result::Error, _>(|conn| {
                let after = after.clone();
                async move {
                    let rows = accounts::lock_tokens_after(conn, &after, BATCH).await?;
                    let mut outcome = Rotation::default();
                    for row in &rows {
                        let (updated, changed) = rotate_row(cipher, row, &mut outcome);
                        if changed {
                            accounts::set_tokens(conn, &updated).await?;
                        }
                    }
                    Ok((outcome, rows.last().map(|r| r.0.clone())))
                }
                .scope_boxed()
            })
            .await?;
        rotation.rewritten += batch.rewritten;
        rotation.current += batch.current;
        rotation.failed.extend(batch.failed);
        match last {
            Some(last) => after = last,
            None => break,
        }
    }
    rotate_signing_keys(pool, cipher, &mut rotation).await?;
    rotate_two_factor_secrets(pool, cipher, &mut rotation).await?;
    Ok(rotation)
}

/// Authenticator-app secrets, and an unconfirmed set-up's recovery codes (a confirmed
/// set-up keeps only their digests). A secret Better Auth sealed with its own key is left
/// alone, as its signing keys are.
async fn rotate_two_factor_secrets(
    pool: &DbPool,
    cipher: &TokenCipher,
    rotation: &mut Rotation,
) -> Result<(), Refusal> {
    let mut conn = pool.get().await?;
    for row in two_factor::all(&mut conn).await? {
        let name = format!("twoFactor {}", row.id);
        let mut one = |column: &str, value: &str, aad: String| -> Option<String> {
            if !TokenCipher::is_encrypted(value) {
                return None;
            }
            rotate_value(cipher, value, &aad, name.clone(), column, rotation)
        };
        let secret = one("secret", &row.secret, secret_aad(&row.user_id));
        let codes = one("backupCodes", &row.backup_codes, codes_aad(&row.user_id));
        if secret.is_some() || codes.is_some() {
            let secret = secret.unwrap_or(row.secret);
            let codes = codes.unwrap_or(row.backup_codes);
            two_factor::set_sealed(&mut conn, &row.id, &secret, &codes).await?;
        }
    }
    Ok(())
}

/// The JWT signing keys' private halves. A key Better Auth made is sealed with its own
/// secret, not ours: it is left alone (Gatehouse never signs with it).
async fn rotate_signing_keys(
    pool: &DbPool,
    cipher: &TokenCipher,
    rotation: &mut Rotation,
) -> Result<(), Refusal> {
    let mut conn = pool.get().await?;
    for (id, sealed) in jwks::private_keys(&mut conn).await? {
        if !TokenCipher::is_encrypted(&sealed) {
            continue;
        }
        let row = format!("jwks {id}");
        let rotated = rotate_value(cipher, &sealed, &jwt::aad(&id), row, "privateKey", rotation);
        if let Some(rewritten) = rotated {
            jwks::set_private_key(&mut conn, &id, &rewritten).await?;
        }
    }
    Ok(())
}

fn rotate_row(
    cipher: &TokenCipher,
    row: &StoredTokens,
    outcome: &mut Rotation,
) -> (StoredTokens, bool) {
    let (id, access, refresh, id_token) = row;
    let mut changed = false;
    let mut one = |column: &str, value: &Option<String>| -> Option<String> {
        let value = value.as_ref()?;
        let aad = account_aad(id, column);
        let row = format!("account {id}");
        match rotate_value(cipher, value, &aad, row, column, outcome) {
            Some(rewritten) => {
                changed = true;
                Some(rewritten)
            }
            None => Some(value.clone()),
        }
    };
    let updated = (
        id.clone(),
        one("accessToken", access),
        one("refreshToken", refresh),
        one("idToken", id_token),
    );
    (updated, changed)
}

/// One stored value under the newest key, counted in `outcome`: the new value when it was
/// rewritten; none when it was current already, or left as it was (reported as `row`'s
/// `column`).
fn rotate_value(
    cipher: &TokenCipher,
    value: &str,
    aad: &str,
    row: String,
    column: &str,
    outcome: &mut Rotation,
) -> Option<String> {
    match cipher.rotate(value, aad) {
        Ok(Some(rewritten)) => {
            outcome.rewritten += 1;
            Some(rewritten)
        }
        Ok(None) => {
            outcome.current += 1;
            None
        }
        Err(e) => {
            outcome
                .failed
                .push((row, column.to_string(), e.to_string()));
            None
        }
    }
}
