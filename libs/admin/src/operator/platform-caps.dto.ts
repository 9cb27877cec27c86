import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject } from 'class-validator';
import type { PlatformCaps } from '@gw/core';

class PlatformCapDoc {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'Requests started per minute.' }) rpm?: number;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'Requests in flight at once (a stream counts until it ends).' }) concurrency?: number;
}

export class PlatformCapsDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/PlatformCapDoc' },
    description: 'Provider (or `*` for every provider not named) to its cap on the platform\'s own credentials. `{}`: no caps for this tenant.',
    example: { '*': { rpm: 600, concurrency: 50 }, openai: { rpm: 120 } },
  })
  @IsObject()
  caps!: PlatformCaps;
}

export class PlatformCapsView {
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/PlatformCapDoc' }, description: 'The caps in force for this tenant.' })
  caps!: PlatformCaps;
  @ApiProperty({ enum: ['tenant', 'platform'], description: '`tenant`: an operator override; `platform`: PLATFORM_TENANT_CAPS.' })
  source!: 'tenant' | 'platform';
}

export const PLATFORM_CAP_MODELS = [PlatformCapDoc];
