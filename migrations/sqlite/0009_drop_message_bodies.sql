-- messages.text_body, messages.html_body and messages.date_header were written and never read:
-- they copy what `inbound.raw` holds (the raw message stays the source of truth, and the
-- visible text is kept in `messages.visible_text`).
ALTER TABLE messages DROP COLUMN text_body;
ALTER TABLE messages DROP COLUMN html_body;
ALTER TABLE messages DROP COLUMN date_header;
