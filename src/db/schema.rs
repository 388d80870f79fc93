//! Hand-kept table definitions shared by both backends (see migrations/).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        role -> Text,
        organisation -> Nullable<Text>,
        region -> Nullable<Text>,
        password_hash -> Text,
        active -> Bool,
        available -> Bool,
        max_open_requests -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_skills (user_id, skill) {
        user_id -> Text,
        skill -> Text,
    }
}

diesel::table! {
    teams (id) {
        id -> Text,
        name -> Text,
        name_key -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    team_members (team_id, user_id) {
        team_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        session_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> Text,
        email_key -> Text,
        address -> Text,
        succeeded -> Bool,
        attempted_at -> Timestamp,
    }
}

diesel::joinable!(user_skills -> users (user_id));
diesel::joinable!(team_members -> users (user_id));
diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    user_skills,
    teams,
    team_members,
    sessions,
    refresh_tokens,
    login_attempts,
);
