-- The decision that superseded one is found by its supersedes_id (the decision views and pages
-- name it): without this index every listed decision scanned the whole table.
CREATE INDEX decisions_by_supersedes ON decisions (supersedes_id);
