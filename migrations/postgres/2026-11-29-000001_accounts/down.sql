DROP TABLE login_attempts;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE user_skills;
DROP TABLE users;
