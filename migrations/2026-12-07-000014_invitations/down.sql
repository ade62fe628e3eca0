DROP TABLE IF EXISTS invitation_result;
DROP TABLE IF EXISTS invitation;
