import { ApiProperty } from '@nestjs/swagger';
import type { Backup } from '../entities/backup.entity';
import type { RestoreResult } from '../backups.service';

export class BackupDto {
  @ApiProperty({ example: 'backup-3f9a0c1b2d4e5f60' })
  backupId: string;

  @ApiProperty({ nullable: true, type: String, example: 'task-0a1b2c3d4e5f6071', description: 'null never; the task may have been deleted since' })
  taskId: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ example: 734003200, description: 'Bytes stored (compressed, and encrypted where it is)' })
  size: number;

  @ApiProperty({ enum: ['s3', 'local'], example: 's3' })
  destination: string;

  @ApiProperty({ example: true })
  encrypted: boolean;

  @ApiProperty({ example: 's3://backups/production/2026-11-29T02-00-00-000Z-backup-3f9a0c1b2d4e5f60.tar.gz.age' })
  location: string;

  @ApiProperty({ example: 'full', enum: ['full', 'volumes', 'config'] })
  type: string;

  @ApiProperty({ example: 'b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c', description: 'SHA-256 of the stored object' })
  sha256: string;

  @ApiProperty({ type: [String], example: ['production_db-data'], description: 'Volume names and bind-mount paths in the archive' })
  volumes: string[];
}

export class BackupListResponseDto {
  @ApiProperty({ type: [BackupDto] })
  backups: BackupDto[];
}

class VerifiedDto {
  @ApiProperty({ example: 734003200 })
  size: number;

  @ApiProperty({ example: 'b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c' })
  sha256: string;

  @ApiProperty({ example: 1204, description: 'Archive entries checked' })
  entries: number;
}

class RestoreDto {
  @ApiProperty({ example: 'backup-3f9a0c1b2d4e5f60' })
  backupId: string;

  @ApiProperty({ type: [String], example: ['production_db-data'] })
  restored: string[];

  @ApiProperty({ type: [String], example: ['production-db-1'], description: 'Stopped for the restore, started again' })
  containersRestarted: string[];

  @ApiProperty({ type: VerifiedDto })
  verified: VerifiedDto;

  @ApiProperty({ example: 5230 })
  durationMs: number;
}

export class RestoreResponseDto {
  @ApiProperty({ example: true })
  success: true;

  @ApiProperty({ type: RestoreDto })
  restore: RestoreDto;
}

export function mapBackup(backup: Backup): BackupDto {
  return {
    backupId: backup.id,
    taskId: backup.taskId,
    createdAt: backup.createdAt.toISOString(),
    size: backup.size,
    destination: backup.destination,
    encrypted: backup.encrypted,
    location: backup.location,
    type: backup.type,
    sha256: backup.sha256,
    volumes: [...backup.volumes],
  };
}

export function mapRestore(result: RestoreResult): RestoreDto {
  return {
    backupId: result.backupId,
    restored: [...result.restored],
    containersRestarted: [...result.containersRestarted],
    verified: { ...result.verified },
    durationMs: result.durationMs,
  };
}
