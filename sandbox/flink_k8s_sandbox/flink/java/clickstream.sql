-- The demo's streaming job, run by flinkk8s.SqlRunner (--script clickstream.sql).
-- Synthetic page views -> clicks per user over 10-second tumbling windows -> blackhole.
-- The window aggregation is keyed by user, so its state lands in every checkpoint and
-- savepoint and is restored on an upgrade.

CREATE TEMPORARY TABLE page_views (
    user_id INT,
    url STRING,
    view_time AS LOCALTIMESTAMP,
    WATERMARK FOR view_time AS view_time - INTERVAL '1' SECOND
) WITH (
    'connector' = 'datagen',
    'rows-per-second' = '100',
    'fields.user_id.min' = '1',
    'fields.user_id.max' = '500',
    'fields.url.length' = '12'
);

CREATE TEMPORARY TABLE clicks_per_user (
    window_start TIMESTAMP(3),
    window_end TIMESTAMP(3),
    user_id INT,
    clicks BIGINT
) WITH (
    'connector' = 'blackhole'
);

INSERT INTO clicks_per_user
SELECT window_start, window_end, user_id, COUNT(*) AS clicks
FROM TABLE(TUMBLE(TABLE page_views, DESCRIPTOR(view_time), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, user_id;
