-- Accounts, teams, sign-in sessions and sign-in attempts.
-- Ids are UUIDv7 text; times are UTC TIMESTAMP (the same shape on both backends).

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('practitioner', 'specialist', 'coordinator', 'admin')),
    organisation TEXT,
    region TEXT,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    available BOOLEAN NOT NULL DEFAULT 0,
    max_open_requests INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_role_idx ON users (role, id);

CREATE TABLE user_skills (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill TEXT NOT NULL,
    PRIMARY KEY (user_id, skill)
);

CREATE TABLE teams (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX teams_name_key ON teams (name_key);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user_idx ON team_members (user_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_reason TEXT
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);

CREATE TABLE login_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    email_key TEXT NOT NULL,
    address TEXT NOT NULL,
    succeeded BOOLEAN NOT NULL,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX login_attempts_email_idx ON login_attempts (email_key, attempted_at);
CREATE INDEX login_attempts_address_idx ON login_attempts (address, attempted_at);
