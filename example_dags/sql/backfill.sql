-- The pipeline's batch step: a bounded backfill (a fixed number of synthetic page views,
-- counted per user) that FINISHES, before the streaming job takes over.
CREATE TEMPORARY TABLE page_views_history (
    user_id INT,
    url STRING
) WITH (
    'connector' = 'datagen',
    'number-of-rows' = '20000',
    'fields.user_id.min' = '1',
    'fields.user_id.max' = '500',
    'fields.url.length' = '12'
);

CREATE TEMPORARY TABLE clicks_per_user_history (
    user_id INT,
    clicks BIGINT
) WITH (
    'connector' = 'blackhole'
);

INSERT INTO clicks_per_user_history
SELECT user_id, COUNT(*) AS clicks
FROM page_views_history
GROUP BY user_id;
