import { Identity1763884800000 } from './1763884800000-identity';

/** Every migration, in order. New migrations are appended here. */
export const migrations = [Identity1763884800000];
