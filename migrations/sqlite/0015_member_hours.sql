-- A member's working hours (`HH:MM-HH:MM`, on their digest days, in their zone); NULL = the
-- server's `notify.working_hours`. Due and closing times that leave them fewer than
-- `notify.min_response_hours` of these are recorded with a warning.
ALTER TABLE members ADD COLUMN hours TEXT NULL;
