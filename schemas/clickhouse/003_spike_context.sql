-- 003_spike_context: a spike alert names its event-time hour and carries that hour's most negative mentions
-- (most negative first); empty for the other alert types.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS window_start Nullable(DateTime64(3, 'UTC')) AFTER created_at;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS top_mentions Array(Tuple(mention_id String, text String, sentiment_compound Float32)) AFTER window_start;
