/** A tag name as sent (stored uppercase); the migration's CHECK on `tags.name` says the same. */
export const TAG_NAME = /^[A-Za-z0-9_-]{1,128}$/;
