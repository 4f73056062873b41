import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import type { BackupConfig } from '../tasks/task-config';
import type { BackupStore } from './storage/backup-store';
import { LocalBackupStore } from './storage/local-store';
import { S3BackupStore } from './storage/s3-store';

export type BackupDestination = BackupConfig['destination'];

export class DestinationNotConfiguredError extends Error {}

/** The configured destinations: `local` always (BACKUP_LOCAL_DIR), `s3` when S3_BUCKET is set. */
@Injectable()
export class BackupStores implements OnApplicationShutdown {
  private readonly stores = new Map<BackupDestination, BackupStore>();

  constructor(private readonly config: AppConfigService) {}

  /** Why a destination cannot be used on this server, or null when it can. */
  unavailableReason(destination: BackupDestination): string | null {
    switch (destination) {
      case 'local':
        return null;
      case 's3':
        return this.config.s3 ? null : 'no S3 bucket is configured on this server (S3_BUCKET)';
    }
  }

  onApplicationShutdown(): void {
    for (const store of this.stores.values()) if (store instanceof S3BackupStore) store.close();
  }

  get(destination: BackupDestination): BackupStore {
    const reason = this.unavailableReason(destination);
    if (reason !== null) throw new DestinationNotConfiguredError(`Backup destination ${destination}: ${reason}`);
    let store = this.stores.get(destination);
    if (!store) {
      store = destination === 's3' ? new S3BackupStore(this.config.s3!) : new LocalBackupStore({ directory: this.config.backupLocalDir });
      this.stores.set(destination, store);
    }
    return store;
  }
}
