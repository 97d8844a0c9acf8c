/**
 * Marks a DTO whose route validates it with a hand-written pipe (hot paths); the global
 * ValidationPipe (AppModule) leaves it alone.
 */
export const SELF_VALIDATED = Symbol('selfValidated');
