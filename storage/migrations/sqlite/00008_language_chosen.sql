-- +goose Up
-- When the student last chose their language (a language command or
-- button, a deep link's language): a merge of two students keeps the one
-- chosen last; a language only detected from words or a locale counts
-- less.
ALTER TABLE conversations ADD COLUMN lang_chosen_at DATETIME;

-- +goose Down
ALTER TABLE conversations DROP COLUMN lang_chosen_at;
