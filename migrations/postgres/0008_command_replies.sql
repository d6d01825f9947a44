-- Mail to the commands address is an intake stage: once its DKIM check and the sender policy
-- have run, the stage records what was asked (`command`) and the reply owed (`reply`, JSON:
-- recipient, subject, lines, whether digests follow), and the outbound run only renders and
-- queues that reply. States: received (logged, not looked at yet) -> pending (reply owed) ->
-- answered, or ignored (with why in `error`). Mail logged before this migration is looked at
-- again by the new stage.
ALTER TABLE command_mail ADD COLUMN command TEXT;
ALTER TABLE command_mail ADD COLUMN reply TEXT;
UPDATE command_mail SET state = 'received' WHERE state = 'pending';
