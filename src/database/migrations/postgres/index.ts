import { InitialSchema1795900000000 } from './1795900000000-initial-schema';

/** In order; each dialect has its own, reviewed. */
export const postgresMigrations = [InitialSchema1795900000000];
