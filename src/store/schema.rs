//! The one schema both backends share (migrations/sqlite and migrations/postgres create it).
//!
//! See docs/architecture.md.

diesel::table! {
    user_pools (id) {
        id -> Text,
        name -> Text,
        domain -> Nullable<Text>,
        settings -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    app_clients (id) {
        id -> Text,
        pool_id -> Text,
        name -> Text,
        secret_digest -> Nullable<Text>,
        settings -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        secret_sealed -> Nullable<Text>,
    }
}

diesel::table! {
    users (sub) {
        sub -> Text,
        pool_id -> Text,
        username -> Text,
        username_key -> Text,
        status -> Text,
        enabled -> Bool,
        password_hash -> Nullable<Text>,
        attributes -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        srp_verifier -> Nullable<Text>,
    }
}

diesel::table! {
    user_aliases (pool_id, kind, alias_key) {
        pool_id -> Text,
        kind -> Text,
        alias_key -> Text,
        user_sub -> Text,
    }
}

diesel::table! {
    user_groups (pool_id, name) {
        pool_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        precedence -> Nullable<Integer>,
        role_arn -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        source -> Text,
    }
}

diesel::table! {
    group_members (pool_id, group_name, user_sub) {
        pool_id -> Text,
        group_name -> Text,
        user_sub -> Text,
    }
}

diesel::table! {
    resource_servers (pool_id, identifier) {
        pool_id -> Text,
        identifier -> Text,
        name -> Text,
        scopes -> Text,
    }
}

diesel::table! {
    identity_providers (pool_id, name) {
        pool_id -> Text,
        name -> Text,
        provider_type -> Text,
        details -> Text,
        attribute_mapping -> Text,
        idp_identifiers -> Text,
    }
}

diesel::table! {
    ui_customizations (pool_id, client_id) {
        pool_id -> Text,
        client_id -> Text,
        css -> Nullable<Text>,
        logo -> Nullable<Binary>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        pool_id -> Text,
        algorithm -> Text,
        private_key_pem -> Text,
        public_jwk -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        publish_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id_digest) {
        id_digest -> Text,
        pool_id -> Text,
        user_sub -> Text,
        kind -> Text,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    token_families (id) {
        id -> Text,
        pool_id -> Text,
        client_id -> Text,
        user_sub -> Nullable<Text>,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    authorization_codes (code_digest) {
        code_digest -> Text,
        pool_id -> Text,
        client_id -> Text,
        user_sub -> Text,
        redirect_uri -> Text,
        scopes -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        redeemed_at -> Nullable<BigInt>,
        family_id -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_digest) {
        token_digest -> Text,
        family_id -> Text,
        pool_id -> Text,
        client_id -> Text,
        user_sub -> Text,
        scopes -> Text,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        rotated_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sign_in_failures (throttle_key) {
        throttle_key -> Text,
        failures -> Integer,
        last_failure_at -> BigInt,
        locked_until -> BigInt,
    }
}

diesel::table! {
    user_codes (pool_id, user_sub, purpose) {
        pool_id -> Text,
        user_sub -> Text,
        purpose -> Text,
        code_digest -> Text,
        destination -> Text,
        attempts -> Integer,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    user_mfa (pool_id, user_sub) {
        pool_id -> Text,
        user_sub -> Text,
        totp_secret -> Nullable<Text>,
        totp_enabled -> Bool,
        last_step -> BigInt,
        failures -> Integer,
        declined -> Bool,
        updated_at -> BigInt,
    }
}

diesel::table! {
    federation_requests (state_digest) {
        state_digest -> Text,
        pool_id -> Text,
        provider -> Text,
        browser_digest -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        request_query -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    user_identities (pool_id, provider, subject) {
        pool_id -> Text,
        provider -> Text,
        subject -> Text,
        user_sub -> Text,
        provider_type -> Text,
        issuer -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    instance_secrets (name) {
        name -> Text,
        secret -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        pool_id -> Text,
        message -> Text,
        status -> Text,
        attempts -> Integer,
        created_at -> BigInt,
        next_attempt_at -> BigInt,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<BigInt>,
        sent_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    api_auth_sessions (id_digest) {
        id_digest -> Text,
        pool_id -> Text,
        client_id -> Text,
        user_sub -> Nullable<Text>,
        username -> Text,
        challenge -> Text,
        state -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    user_search (pool_id, attribute, value_key, user_sub) {
        pool_id -> Text,
        attribute -> Text,
        value_key -> Text,
        user_sub -> Text,
    }
}

diesel::table! {
    retired_attributes (pool_id, user_sub, name) {
        pool_id -> Text,
        user_sub -> Text,
        name -> Text,
        value -> Text,
        retired_at -> BigInt,
    }
}

diesel::table! {
    user_import_jobs (job_id) {
        job_id -> Text,
        pool_id -> Text,
        job_name -> Text,
        role_arn -> Text,
        status -> Text,
        created_at -> BigInt,
        started_at -> Nullable<BigInt>,
        completed_at -> Nullable<BigInt>,
        completion_message -> Nullable<Text>,
        imported_users -> BigInt,
        skipped_users -> BigInt,
        failed_users -> BigInt,
        uploaded_at -> Nullable<BigInt>,
        etag -> Nullable<Text>,
        data -> Nullable<Binary>,
        next_line -> BigInt,
    }
}

diesel::table! {
    user_import_rejections (job_id, line) {
        job_id -> Text,
        line -> BigInt,
        outcome -> Text,
        message -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    user_pools,
    app_clients,
    users,
    user_aliases,
    user_groups,
    group_members,
    resource_servers,
    identity_providers,
    ui_customizations,
    signing_keys,
    sessions,
    token_families,
    authorization_codes,
    refresh_tokens,
    sign_in_failures,
    user_codes,
    user_mfa,
    federation_requests,
    user_identities,
    mail_outbox,
    api_auth_sessions,
    user_search,
    retired_attributes,
    user_import_jobs,
    user_import_rejections,
);
