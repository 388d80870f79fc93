DROP TABLE notification_preferences;
DROP TABLE email_outbox;
