import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { ProviderRegistry } from '@gw/llm';
import { ListQueryDto } from '../common/pagination.dto';

/** The adapters' ids (libs/llm/providers): the only provider names the admin API knows. */
export const PROVIDER_IDS: readonly string[] = new ProviderRegistry().ids();
export const PRIORITIES = ['first', 'fallback'] as const;

const Given = () => ValidateIf((_o, v) => v !== undefined);

export class CreateProviderKeyDto {
  @ApiProperty({ enum: PROVIDER_IDS, example: 'openai' })
  @IsIn(PROVIDER_IDS)
  provider!: string;

  @ApiProperty({ minLength: 8, maxLength: 500, description: 'Your provider key. Encrypted at rest, never returned (only its last 4 characters).' })
  @IsString()
  @MinLength(8)
  @MaxLength(500)
  @Matches(/^[\x21-\x7e]+$/, { message: 'api_key must be printable ASCII without spaces' })
  api_key!: string;

  @ApiPropertyOptional({ maxLength: 500, example: 'https://api.openai.com/v1', description: "Default: the platform's base URL for this provider. Private, loopback and link-local addresses are refused unless the operator allows them; in production it must be https on port 443 unless the operator allows more (PROVIDER_URL_HTTPS_ONLY, PROVIDER_URL_PORTS)." })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  base_url?: string;

  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({ enum: PRIORITIES, default: 'first', description: '`first`: tried before the platform\'s capacity; `fallback`: only when the platform\'s fails.' })
  @Given()
  @IsIn(PRIORITIES)
  priority?: (typeof PRIORITIES)[number];
}

export class UpdateProviderKeyDto {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500, description: 'A new base URL (null: the platform\'s) needs `api_key` in the same request: the stored key is never sent to a URL it was not given for.' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  base_url?: string | null;

  @ApiPropertyOptional({ minLength: 8, maxLength: 500, description: 'Replaces the stored key (required with a new `base_url`); clears `verified_at`.' })
  @Given()
  @IsString()
  @MinLength(8)
  @MaxLength(500)
  @Matches(/^[\x21-\x7e]+$/, { message: 'api_key must be printable ASCII without spaces' })
  api_key?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  label?: string | null;

  @ApiPropertyOptional({ enum: PRIORITIES })
  @Given()
  @IsIn(PRIORITIES)
  priority?: (typeof PRIORITIES)[number];
}

export class ListProviderKeysQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ enum: PROVIDER_IDS })
  @IsOptional()
  @IsIn(PROVIDER_IDS)
  provider?: string;
}

export class ProviderKeyView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: PROVIDER_IDS }) provider!: string;
  @ApiProperty({ type: String, nullable: true }) label!: string | null;
  @ApiProperty({ description: 'The last 4 characters of the key (empty for very short keys).' }) last4!: string;
  @ApiProperty({ type: String, nullable: true }) base_url!: string | null;
  @ApiProperty({ enum: PRIORITIES }) priority!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) verified_at!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class ProviderKeyListView {
  @ApiProperty({ type: [ProviderKeyView] }) data!: ProviderKeyView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}

export class VerifyErrorView {
  @ApiProperty({ enum: ['invalid_key', 'rate_limited', 'not_found', 'provider_error', 'provider_unavailable', 'unreachable', 'timeout', 'blocked_address', 'redirect', 'no_probe_model'] })
  code!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ type: Number, nullable: true, description: "The provider's HTTP status, when it answered." }) status!: number | null;
}

export class VerifyView {
  @ApiProperty() id!: string;
  @ApiProperty() verified!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) verified_at!: string | null;
  @ApiProperty({ type: VerifyErrorView, nullable: true }) error!: VerifyErrorView | null;
}
