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
        last_assigned_at -> Nullable<Timestamp>,
        password_change_required -> Bool,
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

diesel::table! {
    reference_counters (year) {
        year -> Integer,
        last_value -> BigInt,
    }
}

diesel::table! {
    requests (id) {
        id -> Text,
        reference -> Text,
        requester_id -> Text,
        title -> Text,
        description -> Text,
        category -> Text,
        urgency -> Text,
        organisation -> Text,
        region -> Text,
        local_reference -> Nullable<Text>,
        yp_age -> Nullable<Integer>,
        yp_age_band -> Nullable<Text>,
        yp_gender -> Nullable<Text>,
        yp_flags -> Text,
        contact_method -> Text,
        contact_times -> Nullable<Text>,
        status -> Text,
        priority -> Nullable<Text>,
        team_id -> Nullable<Text>,
        assignee_id -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        triaged_at -> Nullable<Timestamp>,
        assigned_at -> Nullable<Timestamp>,
        first_response_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        withdrawn_at -> Nullable<Timestamp>,
        paused_at -> Nullable<Timestamp>,
        paused_seconds -> BigInt,
        due_at -> Timestamp,
        redacted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    request_pauses (id) {
        id -> Text,
        request_id -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    request_transitions (id) {
        id -> Text,
        request_id -> Text,
        from_status -> Text,
        to_status -> Text,
        actor_id -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        request_id -> Text,
        author_id -> Text,
        kind -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Text,
        key -> Text,
        body_hash -> Text,
        request_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    request_exclusions (request_id, user_id) {
        request_id -> Text,
        user_id -> Text,
        excluded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    break_glass_grants (id) {
        id -> Text,
        request_id -> Text,
        user_id -> Text,
        reason -> Text,
        granted_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        request_id -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    audit_log_requests (request_id, audit_id) {
        request_id -> Text,
        audit_id -> Text,
    }
}

diesel::table! {
    triage_decisions (id) {
        id -> Text,
        request_id -> Text,
        rule -> Nullable<Text>,
        reason -> Text,
        priority -> Nullable<Text>,
        team_id -> Nullable<Text>,
        skill -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        decided_at -> Timestamp,
    }
}

diesel::table! {
    safety_events (id) {
        id -> Text,
        request_id -> Text,
        kind -> Text,
        created_at -> Timestamp,
        handled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    request_sla (request_id) {
        request_id -> Text,
        priority -> Text,
        state -> Text,
        first_response_due_at -> Nullable<Timestamp>,
        next_response_cycle -> Nullable<Text>,
        next_response_started_at -> Nullable<Timestamp>,
        next_response_due_at -> Nullable<Timestamp>,
        resolution_due_at -> Nullable<Timestamp>,
        first_response_business_seconds -> Nullable<BigInt>,
        first_response_wall_seconds -> Nullable<BigInt>,
        first_response_met -> Nullable<Bool>,
        resolution_business_seconds -> Nullable<BigInt>,
        resolution_wall_seconds -> Nullable<BigInt>,
        resolution_met -> Nullable<Bool>,
        ack_started_at -> Nullable<Timestamp>,
        ack_due_at -> Nullable<Timestamp>,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
        acknowledgement_seconds -> Nullable<BigInt>,
        escalation_level -> Integer,
        breached_at -> Nullable<Timestamp>,
        next_check_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sla_events (id) {
        id -> Text,
        request_id -> Text,
        clock -> Text,
        cycle -> Text,
        kind -> Text,
        level -> Integer,
        target -> Nullable<Text>,
        due_at -> Timestamp,
        crossed_at -> Timestamp,
        recorded_at -> Timestamp,
        notified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rota_shifts (id) {
        id -> Text,
        user_id -> Text,
        duty -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    email_outbox (id) {
        id -> Text,
        event -> Text,
        request_id -> Nullable<Text>,
        recipient_id -> Nullable<Text>,
        to_address -> Text,
        recipient_name -> Text,
        context -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        leased_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        priority -> Integer,
    }
}

diesel::table! {
    notification_preferences (user_id, event) {
        user_id -> Text,
        event -> Text,
        enabled -> Bool,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        organisation -> Text,
        scopes -> Text,
        secret_hash -> Text,
        secret_version -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    client_requests (request_id) {
        request_id -> Text,
        client_id -> Text,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        client_id -> Text,
        url -> Text,
        events -> Text,
        secret -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_id -> Text,
        event -> Text,
        request_id -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        leased_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        response_status -> Nullable<Integer>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        priority -> Integer,
    }
}

diesel::joinable!(audit_log_requests -> audit_log (audit_id));
diesel::joinable!(request_sla -> requests (request_id));
diesel::joinable!(sla_events -> requests (request_id));
diesel::joinable!(rota_shifts -> users (user_id));
diesel::joinable!(user_skills -> users (user_id));
diesel::joinable!(team_members -> users (user_id));
diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(messages -> requests (request_id));
diesel::joinable!(request_transitions -> requests (request_id));
diesel::joinable!(request_pauses -> requests (request_id));
diesel::joinable!(client_requests -> api_clients (client_id));
diesel::joinable!(webhooks -> api_clients (client_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    user_skills,
    teams,
    team_members,
    sessions,
    refresh_tokens,
    login_attempts,
    reference_counters,
    requests,
    request_pauses,
    request_transitions,
    messages,
    idempotency_keys,
    request_exclusions,
    break_glass_grants,
    audit_log,
    audit_log_requests,
    safety_events,
    triage_decisions,
    request_sla,
    sla_events,
    rota_shifts,
    email_outbox,
    notification_preferences,
    api_clients,
    client_requests,
    webhooks,
    webhook_deliveries,
);
