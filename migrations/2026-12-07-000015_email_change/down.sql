DROP TABLE IF EXISTS email_change;
