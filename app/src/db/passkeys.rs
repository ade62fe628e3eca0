//! The `passkey` table (Better Auth's passkey plugin's): a person's WebAuthn credentials.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{new_id, Passkey};
use super::prebuilt::{statement, Prebuilt};
use super::schema::passkey;

/// The person's passkeys, oldest first (the profile reads them on every view).
pub async fn of_user(mut conn: &AsyncPgConnection, user_id: &str) -> QueryResult<Vec<Passkey>> {
    statement!(PasskeysOfUser);
    let query = passkey::table
        .filter(passkey::user_id.eq(user_id))
        .order((passkey::created_at, passkey::id))
        .select(Passkey::as_select());
    Prebuilt::<_, PasskeysOfUser>::new(query)
        .load(&mut conn)
        .await
}

/// How many passkeys the person has.
pub async fn count(mut conn: &AsyncPgConnection, user_id: &str) -> QueryResult<i64> {
    passkey::table
        .filter(passkey::user_id.eq(user_id))
        .count()
        .get_result(&mut conn)
        .await
}

/// The passkey with this credential id (base64url), whoever holds it.
pub async fn by_credential(
    conn: &mut AsyncPgConnection,
    credential_id: &str,
) -> QueryResult<Option<Passkey>> {
    passkey::table
        .filter(passkey::credential_id.eq(credential_id))
        .select(Passkey::as_select())
        .first(conn)
        .await
        .optional()
}

/// What a new passkey is stored as.
pub struct NewPasskey<'a> {
    pub name: &'a str,
    pub user_id: &'a str,
    pub credential_id: &'a str,
    pub public_key: &'a str,
    pub counter: i32,
    pub device_type: &'a str,
    pub backed_up: bool,
    pub transports: Option<&'a str>,
    pub aaguid: Option<&'a str>,
}

/// Stores a new passkey; false when its credential is already registered (to anyone).
pub async fn insert(conn: &mut AsyncPgConnection, new: NewPasskey<'_>) -> QueryResult<bool> {
    let inserted = diesel::insert_into(passkey::table)
        .values((
            passkey::id.eq(new_id()),
            passkey::name.eq(new.name),
            passkey::public_key.eq(new.public_key),
            passkey::user_id.eq(new.user_id),
            passkey::credential_id.eq(new.credential_id),
            passkey::counter.eq(new.counter),
            passkey::device_type.eq(new.device_type),
            passkey::backed_up.eq(new.backed_up),
            passkey::transports.eq(new.transports),
            passkey::created_at.eq(Utc::now()),
            passkey::aaguid.eq(new.aaguid),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Records a use: the new counter and backup state, if the counter is still `seen` (of two
/// uses at the same moment with one counter value, one counts). False when it moved.
pub async fn record_use(
    conn: &mut AsyncPgConnection,
    id: &str,
    seen: i32,
    counter: i32,
    backed_up: bool,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let updated = diesel::update(passkey::table.find(id).filter(passkey::counter.eq(seen)))
        .set((
            passkey::counter.eq(counter),
            passkey::backed_up.eq(backed_up),
            passkey::last_used_at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(updated == 1)
}

/// Renames one of the person's passkeys; false when they have none with that id.
pub async fn rename(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    id: &str,
    name: &str,
) -> QueryResult<bool> {
    let updated = diesel::update(
        passkey::table
            .filter(passkey::user_id.eq(user_id))
            .filter(passkey::id.eq(id)),
    )
    .set(passkey::name.eq(name))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// Removes one of the person's passkeys, returning it.
pub async fn delete_one(
    conn: &mut AsyncPgConnection,
    user_id: &str,
    id: &str,
) -> QueryResult<Option<Passkey>> {
    diesel::delete(
        passkey::table
            .filter(passkey::user_id.eq(user_id))
            .filter(passkey::id.eq(id)),
    )
    .returning(Passkey::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Removes every passkey of the person (an admin's reset of their second factor).
pub async fn delete_for(conn: &mut AsyncPgConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(passkey::table.filter(passkey::user_id.eq(user_id)))
        .execute(conn)
        .await
}
