-- Outbound claims name their owner: the node that set `state = 'sending'` and until when its
-- claim holds. Only the owner of a live claim records the result; a node that restarts takes its
-- own claims back at once, and another node takes a claim over once its lease has run out.
ALTER TABLE outbound ADD COLUMN claimed_by TEXT;
ALTER TABLE outbound ADD COLUMN lease_until BIGINT;
