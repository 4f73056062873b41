import { InitialSchema1795900000000 } from './1795900000000-initial-schema';
import { Scheduler1795910000000 } from './1795910000000-scheduler';
import { Backups1795920000000 } from './1795920000000-backups';

/** In order; each dialect has its own, reviewed. */
export const postgresMigrations = [InitialSchema1795900000000, Scheduler1795910000000, Backups1795920000000];
