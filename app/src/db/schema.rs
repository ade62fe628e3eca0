// @generated automatically by Diesel CLI.

diesel::table! {
    account (id) {
        id -> Text,
        #[sql_name = "accountId"]
        account_id -> Text,
        #[sql_name = "providerId"]
        provider_id -> Text,
        #[sql_name = "userId"]
        user_id -> Text,
        #[sql_name = "accessToken"]
        access_token -> Nullable<Text>,
        #[sql_name = "refreshToken"]
        refresh_token -> Nullable<Text>,
        #[sql_name = "idToken"]
        id_token -> Nullable<Text>,
        #[sql_name = "accessTokenExpiresAt"]
        access_token_expires_at -> Nullable<Timestamptz>,
        #[sql_name = "refreshTokenExpiresAt"]
        refresh_token_expires_at -> Nullable<Timestamptz>,
        scope -> Nullable<Text>,
        password -> Nullable<Text>,
        #[sql_name = "createdAt"]
        created_at -> Timestamptz,
        #[sql_name = "updatedAt"]
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    artwork_jobs (id) {
        id -> Text,
        job_id -> Text,
        original_url -> Text,
        protected_url -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        user_id -> Nullable<Text>,
    }
}

diesel::table! {
    audit_event (id) {
        id -> Text,
        created_at -> Timestamptz,
        actor_user_id -> Nullable<Text>,
        actor_label -> Text,
        action -> Text,
        target_user_id -> Nullable<Text>,
        target_label -> Nullable<Text>,
        ip_address -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        detail -> Jsonb,
    }
}

diesel::table! {
    email_change (id) {
        id -> Text,
        user_id -> Text,
        old_email -> Text,
        new_email -> Text,
        confirm_token -> Text,
        undo_token -> Text,
        second_undo_token -> Nullable<Text>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        confirmed_at -> Nullable<Timestamptz>,
        undo_until -> Timestamptz,
    }
}

diesel::table! {
    invitation (id) {
        id -> Text,
        email -> Text,
        role -> Text,
        tier -> Text,
        token_hash -> Text,
        invited_by -> Nullable<Text>,
        invited_by_label -> Text,
        created_at -> Timestamptz,
        sent_at -> Timestamptz,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        accepted_by -> Nullable<Text>,
        revoked_at -> Nullable<Timestamptz>,
        expired_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invitation_result (id) {
        id -> Text,
        admin_id -> Text,
        outcomes -> Jsonb,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    jwks (id) {
        id -> Text,
        #[sql_name = "publicKey"]
        public_key -> Text,
        #[sql_name = "privateKey"]
        private_key -> Text,
        #[sql_name = "createdAt"]
        created_at -> Timestamptz,
        #[sql_name = "expiresAt"]
        expires_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    passkey (id) {
        id -> Text,
        name -> Nullable<Text>,
        #[sql_name = "publicKey"]
        public_key -> Text,
        #[sql_name = "userId"]
        user_id -> Text,
        #[sql_name = "credentialID"]
        credential_id -> Text,
        counter -> Int4,
        #[sql_name = "deviceType"]
        device_type -> Text,
        #[sql_name = "backedUp"]
        backed_up -> Bool,
        transports -> Nullable<Text>,
        #[sql_name = "createdAt"]
        created_at -> Nullable<Timestamptz>,
        aaguid -> Nullable<Text>,
        #[sql_name = "lastUsedAt"]
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    session (id) {
        id -> Text,
        #[sql_name = "expiresAt"]
        expires_at -> Timestamptz,
        token -> Text,
        #[sql_name = "createdAt"]
        created_at -> Timestamptz,
        #[sql_name = "updatedAt"]
        updated_at -> Timestamptz,
        #[sql_name = "ipAddress"]
        ip_address -> Nullable<Text>,
        #[sql_name = "userAgent"]
        user_agent -> Nullable<Text>,
        #[sql_name = "userId"]
        user_id -> Text,
        amr -> Nullable<Array<Text>>,
    }
}

diesel::table! {
    #[sql_name = "twoFactor"]
    two_factor (id) {
        id -> Text,
        secret -> Text,
        #[sql_name = "backupCodes"]
        backup_codes -> Text,
        #[sql_name = "userId"]
        user_id -> Text,
        #[sql_name = "lastUsedStep"]
        last_used_step -> Nullable<Int8>,
        #[sql_name = "createdAt"]
        created_at -> Timestamptz,
    }
}

diesel::table! {
    user (id) {
        id -> Text,
        name -> Text,
        email -> Text,
        #[sql_name = "emailVerified"]
        email_verified -> Bool,
        image -> Nullable<Text>,
        #[sql_name = "createdAt"]
        created_at -> Timestamptz,
        #[sql_name = "updatedAt"]
        updated_at -> Timestamptz,
        role -> Text,
        tier -> Text,
        #[sql_name = "isWhitelisted"]
        is_whitelisted -> Bool,
        banned -> Bool,
        #[sql_name = "banReason"]
        ban_reason -> Nullable<Text>,
        #[sql_name = "banExpires"]
        ban_expires -> Nullable<Timestamptz>,
        #[sql_name = "twoFactorEnabled"]
        two_factor_enabled -> Bool,
        #[sql_name = "emailChangedAt"]
        email_changed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    verification (id) {
        id -> Text,
        identifier -> Text,
        value -> Text,
        #[sql_name = "expiresAt"]
        expires_at -> Timestamptz,
        #[sql_name = "createdAt"]
        created_at -> Timestamptz,
        #[sql_name = "updatedAt"]
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_delivery (seq) {
        seq -> Int8,
        event_id -> Text,
        event_type -> Text,
        endpoint -> Text,
        body -> Text,
        created_at -> Timestamptz,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        failed_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(account -> user (user_id));
diesel::joinable!(artwork_jobs -> user (user_id));
diesel::joinable!(email_change -> user (user_id));
diesel::joinable!(passkey -> user (user_id));
diesel::joinable!(session -> user (user_id));
diesel::joinable!(two_factor -> user (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    account,
    artwork_jobs,
    audit_event,
    email_change,
    invitation,
    invitation_result,
    jwks,
    passkey,
    session,
    two_factor,
    user,
    verification,
    webhook_delivery,
);
