import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/dto/api-errors.decorator';
import { ApiKeysService } from './api-keys.service';
import {
  ApiKeyCreatedResponseDto,
  ApiKeyListResponseDto,
  ApiKeyRevokedResponseDto,
  CallerDto,
  CreateApiKeyDto,
  mapApiKey,
} from './dto/api-key.dto';
import { CurrentPrincipal, RequireAnyKey, RequirePermissions } from './permissions.decorators';
import type { Principal } from './principal';

@ApiTags('API keys')
@Controller()
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Get('me')
  @RequireAnyKey()
  @ApiOperation({ summary: 'The calling key: its id, permissions and projects', description: 'For admin portals deciding what to show.' })
  @ApiOkResponse({ type: CallerDto })
  me(@CurrentPrincipal() principal: Principal): CallerDto {
    return { keyId: principal.keyId, permissions: [...principal.permissions], projectIds: principal.projectIds && [...principal.projectIds] };
  }

  @Post('api-keys')
  @RequirePermissions('api-keys:manage')
  @ApiOperation({
    summary: 'Create an API key',
    description: 'The secret is in the response once; only its SHA-256 is stored. A key cannot grant more permissions or projects than it has.',
  })
  @ApiCreatedResponse({ type: ApiKeyCreatedResponseDto })
  @ApiErrors(400, 'Validation failed', 'Project not found')
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateApiKeyDto): Promise<ApiKeyCreatedResponseDto> {
    const { apiKey, secret } = await this.apiKeys.create(principal, body);
    return { success: true, apiKey: mapApiKey(apiKey), key: secret };
  }

  @Get('api-keys')
  @RequirePermissions('api-keys:manage')
  @ApiOperation({ summary: 'List API keys (never their secrets)', description: 'Only keys within the caller\'s own permissions and projects.' })
  @ApiOkResponse({ type: ApiKeyListResponseDto })
  async list(@CurrentPrincipal() principal: Principal): Promise<ApiKeyListResponseDto> {
    const apiKeys = await this.apiKeys.list(principal);
    return { apiKeys: apiKeys.map(mapApiKey) };
  }

  @Delete('api-keys/:id')
  @HttpCode(200)
  @RequirePermissions('api-keys:manage')
  @ApiOperation({ summary: 'Revoke an API key', description: 'Takes effect on the next request, on every replica.' })
  @ApiOkResponse({ type: ApiKeyRevokedResponseDto })
  @ApiErrors(404, 'API key not found')
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ApiKeyRevokedResponseDto> {
    await this.apiKeys.revoke(principal, id);
    return { success: true, message: 'API key revoked' };
  }
}
