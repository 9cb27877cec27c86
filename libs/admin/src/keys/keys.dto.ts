import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { ListQueryDto } from '../common/pagination.dto';
import { IsUsd } from '../common/usd.validator';

export const KEY_KINDS = ['inference', 'management'] as const;
export const KEY_STATUSES = ['active', 'revoked', 'rotated'] as const;
export const LIMIT_RESETS = ['never', 'daily', 'weekly', 'monthly'] as const;
/** A model, an alias, or a prefix of either ending in `*` (the gateway's allowed_models rule). */
export const MODEL_PATTERN = /^([A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}\*?|\*)$/;
const MAX_GRACE_SECONDS = 7 * 86_400;

/** Present means validated; null is refused for fields that cannot be cleared. */
const Given = () => ValidateIf((_o, v) => v !== undefined);

class KeySettingsDto {
  @ApiPropertyOptional({ type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 100, example: ['openai/*', 'anthropic/claude-sonnet-4.5', 'my-fast'], description: 'Models, aliases or prefixes ending in `*` this key may call; empty: all.' })
  @Given()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  @Matches(MODEL_PATTERN, { each: true, message: 'allowed_models entries must be models, aliases or prefixes ending in *' })
  allowed_models?: string[];

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, maximum: 10_000_000, description: 'Requests per minute; null: unlimited.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  rpm_limit?: number | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, maximum: 2_000_000_000, description: 'Tokens per minute; null: unlimited.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2_000_000_000)
  tpm_limit?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, maximum: 1_000_000, description: 'Spend limit in USD per `limit_reset` period; null: none.' })
  @IsOptional()
  @IsUsd({ min: 0, max: 1_000_000 })
  credit_limit?: number | null;

  @ApiPropertyOptional({ enum: LIMIT_RESETS, default: 'never', description: 'When the credit limit starts over (UTC midnight; weeks start Monday).' })
  @Given()
  @IsIn(LIMIT_RESETS)
  limit_reset?: (typeof LIMIT_RESETS)[number];

  @ApiPropertyOptional({ default: false, description: 'Whether requests on your own provider keys (BYOK) count toward credit_limit.' })
  @Given()
  @IsBoolean()
  include_byok_in_limit?: boolean;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, maxLength: 40, description: 'The key stops working at this instant; null: never.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(40)
  expires_at?: string | null;
}

export class CreateKeyDto extends KeySettingsDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'production backend' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional({ enum: KEY_KINDS, default: 'inference', description: '`management` keys call the key and usage endpoints of /api, never a model.' })
  @Given()
  @IsIn(KEY_KINDS)
  kind?: (typeof KEY_KINDS)[number];
}

export class UpdateKeyDto extends KeySettingsDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @Given()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name?: string;
}

export class RotateKeyDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_GRACE_SECONDS, description: 'How long the old key keeps working; default KEY_ROTATION_GRACE_SECONDS (24 h).' })
  @Given()
  @IsInt()
  @Min(0)
  @Max(MAX_GRACE_SECONDS)
  grace_period_seconds?: number;
}

export class ListKeysQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ enum: KEY_STATUSES })
  @IsOptional()
  @IsIn(KEY_STATUSES)
  status?: (typeof KEY_STATUSES)[number];

  @ApiPropertyOptional({ enum: KEY_KINDS })
  @IsOptional()
  @IsIn(KEY_KINDS)
  kind?: (typeof KEY_KINDS)[number];
}

/** A key as every answer shows it: never the hash, never the secret. */
export class KeyView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: KEY_KINDS }) kind!: string;
  @ApiProperty({ description: 'The first characters of the key, to recognise it.' }) prefix!: string;
  @ApiProperty({ enum: KEY_STATUSES }) status!: string;
  @ApiProperty({ type: [String] }) allowed_models!: string[];
  @ApiProperty({ type: 'integer', nullable: true }) rpm_limit!: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) tpm_limit!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'USD' }) credit_limit!: number | null;
  @ApiProperty({ enum: LIMIT_RESETS }) limit_reset!: string;
  @ApiProperty() include_byok_in_limit!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expires_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'A rotated key works until then.' }) grace_until!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class CreatedKeyView extends KeyView {
  @ApiProperty({ description: 'The full key. Shown once: store it now.' }) key!: string;
}

export class RotatedKeyView {
  @ApiProperty({ type: CreatedKeyView, description: 'The new key (shown once).' }) key!: CreatedKeyView;
  @ApiProperty({ type: KeyView, description: 'The old key, now `rotated` until `grace_until`.' }) rotated!: KeyView;
}

export class KeyListView {
  @ApiProperty({ type: [KeyView] }) data!: KeyView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}
