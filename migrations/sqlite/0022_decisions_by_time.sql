-- The decisions list (newest first, bounded) walks this index and stops at its page instead of
-- sorting every decision of the member's spaces.
CREATE INDEX decisions_by_time ON decisions (decided_at, id);
