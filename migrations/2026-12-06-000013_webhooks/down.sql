DROP TABLE IF EXISTS webhook_delivery;
