-- Links are looked up from either end (a decision's tasks, a task's decision): the primary key
-- serves the a side, this index the b side, which was a scan of the whole table per item.
CREATE INDEX item_links_by_b ON item_links (b_kind, b_id, a_kind);
