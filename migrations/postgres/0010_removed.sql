-- What the visible text left out of each message, kept so a reader can "show quoted text": a JSON
-- array of {"kind": "quote|attribution|signature|footer|forward", "text": "…"} in message order.
-- Rows stored before this migration have none recorded ('[]'); their raw mail is still in inbound.
ALTER TABLE messages ADD COLUMN removed TEXT NOT NULL DEFAULT '[]';
