DROP TABLE IF EXISTS gatehouse_rate_limit;
