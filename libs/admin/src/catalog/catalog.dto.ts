import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsDefined, IsInt, IsObject, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateIf, ValidateNested } from 'class-validator';

/**
 * `provider/model` (the model part may hold further slashes: `openrouter/anthropic/claude-sonnet-4.5`),
 * each segment non-empty; at most 140 characters, so that a page cursor naming it stays within
 * the 200 characters `cursor` accepts.
 */
export const CATALOG_ID = /^[a-z0-9][a-z0-9-]*(\/[A-Za-z0-9][A-Za-z0-9._:@+-]*)+$/;
export const CATALOG_ID_MAX = 140;
/** USD per million tokens as a decimal string, at most 6 decimals (a micro-dollar per million). */
const USD_PER_MILLION = /^\d{1,7}(\.\d{1,6})?$/;
const PRICE_MESSAGE = 'must be USD per million tokens as a decimal string with at most 6 decimals, e.g. "0.15"';
export const MAX_TOKENS_LIMIT = 100_000_000;

const Given = () => ValidateIf((_o, v) => v !== undefined);
/** Absent or null both mean "none" (cache prices); present means validated. */
const Nullable = () => ValidateIf((_o, v) => v !== undefined && v !== null);

export class PricingDto {
  @ApiProperty({ maxLength: 14, example: '0.15', description: 'Prompt tokens, USD per million' })
  @IsString({ message: `input ${PRICE_MESSAGE}` })
  @Matches(USD_PER_MILLION, { message: `input ${PRICE_MESSAGE}` })
  input!: string;

  @ApiProperty({ maxLength: 14, example: '0.6', description: 'Output tokens (reasoning included), USD per million' })
  @IsString({ message: `output ${PRICE_MESSAGE}` })
  @Matches(USD_PER_MILLION, { message: `output ${PRICE_MESSAGE}` })
  output!: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 14, example: '0.075', description: 'Cached prompt tokens; null: the model has no cache reads (they cost input)' })
  @Nullable()
  @IsString({ message: `cache_read ${PRICE_MESSAGE}` })
  @Matches(USD_PER_MILLION, { message: `cache_read ${PRICE_MESSAGE}` })
  cache_read?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 14, description: 'Cache writes (Anthropic: 5-minute); null: none' })
  @Nullable()
  @IsString({ message: `cache_write ${PRICE_MESSAGE}` })
  @Matches(USD_PER_MILLION, { message: `cache_write ${PRICE_MESSAGE}` })
  cache_write?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 14, description: 'Hour-long cache writes (Anthropic); null: they cost cache_write' })
  @Nullable()
  @IsString({ message: `cache_write_1h ${PRICE_MESSAGE}` })
  @Matches(USD_PER_MILLION, { message: `cache_write_1h ${PRICE_MESSAGE}` })
  cache_write_1h?: string | null;
}

/** A new model (POST): id, upstream id, limits and prices are required. */
export class CreateCatalogModelDto {
  @ApiProperty({ maxLength: CATALOG_ID_MAX, example: 'openai/gpt-4o-mini-2026-10-01', description: 'provider/model; the provider must be one the gateway speaks to' })
  @IsString()
  @MaxLength(CATALOG_ID_MAX)
  @Matches(CATALOG_ID, { message: 'id must be provider/model' })
  id!: string;

  @ApiProperty({ maxLength: 200, example: 'gpt-4o-mini-2026-10-01', description: "The provider's own model id" })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  upstream_id!: string;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_TOKENS_LIMIT, example: 128000 })
  @IsInt()
  @Min(1)
  @Max(MAX_TOKENS_LIMIT)
  context_length!: number;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_TOKENS_LIMIT, example: 16384, description: 'At most context_length; the default output cap (and the hold) of a request without max_tokens' })
  @IsInt()
  @Min(1)
  @Max(MAX_TOKENS_LIMIT)
  max_output_tokens!: number;

  @ApiProperty({ type: PricingDto })
  @IsDefined({ message: 'pricing is required' })
  @IsObject({ message: 'pricing must be an object of USD-per-million prices' })
  @ValidateNested()
  @Type(() => PricingDto)
  pricing!: PricingDto;

  @ApiPropertyOptional({ maxLength: 200, example: 'GPT-4o mini (2026-10-01)', description: 'Display name; the id when absent' })
  @Given()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: CATALOG_ID_MAX, example: 'openai/gpt-4o', description: 'Another catalog model this one is the same model as (routing treats them as equivalents); null: none' })
  @Nullable()
  @IsString()
  @MaxLength(CATALOG_ID_MAX)
  @Matches(CATALOG_ID, { message: 'canonical must be a provider/model id' })
  canonical?: string | null;

  @ApiPropertyOptional({ type: [String], maxItems: 50, example: ['tools', 'vision', 'json'] })
  @Given()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(50, { each: true })
  capabilities?: string[];

  @ApiPropertyOptional({ description: 'false: the model disappears from /v1/models and requests for it get 404' })
  @Given()
  @IsBoolean()
  enabled?: boolean;
}

/** What an operator may change on a model (PATCH): every field but the id, each optional; null only where it means "none". */
export class UpdateCatalogModelDto extends PartialType(OmitType(CreateCatalogModelDto, ['id'] as const), { skipNullProperties: false }) {}
