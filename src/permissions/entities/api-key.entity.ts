import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { TIMESTAMP_COLUMN_TYPE } from '../../database/dialect';
import type { Permission } from '../permission';

@Entity('api_keys')
export class ApiKey {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** SHA-256 (hex) of the secret; the secret itself is never stored. */
  @Column({ type: 'varchar', length: 64, unique: true })
  keyHash: string;

  @Column({ type: 'simple-json' })
  permissions: Permission[];

  /** Null: every project. */
  @Column({ type: 'simple-json', nullable: true })
  projectIds: string[] | null;

  @Column({ type: TIMESTAMP_COLUMN_TYPE, nullable: true })
  expiresAt: Date | null;

  /** The key that created this one; null for keys made at start-up. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ type: TIMESTAMP_COLUMN_TYPE })
  createdAt: Date;
}
