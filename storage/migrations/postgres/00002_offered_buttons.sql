-- +goose Up
-- The buttons of the bot's last replies: only those may be pressed, so an
-- old keyboard cannot act on a conversation that has moved on.
ALTER TABLE conversations ADD COLUMN offered TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE conversations DROP COLUMN offered;
