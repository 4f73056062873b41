import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/dto/api-errors.decorator';
import { CurrentPrincipal, RequirePermissions } from '../permissions/permissions.decorators';
import type { Principal } from '../permissions/principal';
import { BackupsService } from './backups.service';
import { BackupListResponseDto, mapBackup, mapRestore, RestoreResponseDto } from './dto/backup.dto';

@ApiTags('Backups')
@Controller('projects/:id/backups')
export class BackupsController {
  constructor(private readonly backups: BackupsService) {}

  @Get()
  @RequirePermissions('projects:read')
  @ApiOperation({ summary: "List a project's backups", description: 'Newest first; every verified backup still in its store.' })
  @ApiOkResponse({ type: BackupListResponseDto })
  @ApiErrors(404, 'Project not found')
  async list(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<BackupListResponseDto> {
    return { backups: (await this.backups.list(principal, id)).map(mapBackup) };
  }

  @Post(':backupId/restore')
  @HttpCode(200)
  @RequirePermissions('projects:write')
  @ApiOperation({
    summary: "Restore a backup into the project's volumes",
    description:
      'Verifies the whole archive first (checksum, decryption with BACKUP_AGE_IDENTITY_FILE, unpacking): a wrong key or a ' +
      'corrupted object is a 422 and nothing changes. Then stops the containers that use the volumes, replaces the ' +
      "volumes' contents with the backup's, and starts them again. Answers when done.",
  })
  @ApiOkResponse({ type: RestoreResponseDto })
  @ApiErrors(404, 'Project not found', 'Backup not found')
  @ApiErrors(409, 'Project is busy', 'Backup cannot be restored')
  @ApiErrors(422, 'Backup cannot be restored')
  @ApiErrors(502, 'Restore failed')
  @ApiErrors(503, 'Container engine unavailable')
  async restore(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Param('backupId') backupId: string,
  ): Promise<RestoreResponseDto> {
    return { success: true, restore: mapRestore(await this.backups.restore(principal, id, backupId)) };
  }
}
