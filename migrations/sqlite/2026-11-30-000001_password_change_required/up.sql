-- Set when an admin gives someone a password they must change at their next
-- sign-in; until they change it at POST /api/v1/me/password, their access
-- tokens open only their own account and that endpoint. Existing accounts
-- keep the passwords they have.
ALTER TABLE users ADD COLUMN password_change_required BOOLEAN NOT NULL DEFAULT 0;
