import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateIf, ValidateNested } from 'class-validator';

/** `provider/model` (the model part may hold further slashes: `openrouter/anthropic/claude-sonnet-4.5`). */
export const CATALOG_ID = /^[a-z0-9][a-z0-9-]*\/[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}$/;
/** USD per million tokens as a decimal string, at most 6 decimals (a micro-dollar per million). */
const USD_PER_MILLION = /^\d{1,7}(\.\d{1,6})?$/;
const PRICE_MESSAGE = 'must be USD per million tokens as a decimal string with at most 6 decimals, e.g. "0.15"';
export const MAX_TOKENS_LIMIT = 100_000_000;

const Given = () => ValidateIf((_o, v) => v !== undefined);
/** Absent or null both mean "none" (cache prices); present means validated. */
const Nullable = () => ValidateIf((_o, v) => v !== undefined && v !== null);

export class PricingDto {
  @ApiProperty({ example: '0.15', description: 'Prompt tokens, USD per million' })
  @IsString({ message: `input ${PRICE_MESSAGE}` })
  @Matches(USD_PER_MILLION, { message: `input ${PRICE_MESSAGE}` })
  input!: string;

  @ApiProperty({ example: '0.6', description: 'Output tokens (reasoning included), USD per million' })
  @IsString({ message: `output ${PRICE_MESSAGE}` })
  @Matches(USD_PER_MILLION, { message: `output ${PRICE_MESSAGE}` })
  output!: string;

  @ApiPropertyOptional({ nullable: true, example: '0.075', description: 'Cached prompt tokens; null: the model has no cache reads (they cost input)' })
  @Nullable()
  @IsString({ message: `cache_read ${PRICE_MESSAGE}` })
  @Matches(USD_PER_MILLION, { message: `cache_read ${PRICE_MESSAGE}` })
  cache_read?: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'Cache writes (Anthropic: 5-minute); null: none' })
  @Nullable()
  @IsString({ message: `cache_write ${PRICE_MESSAGE}` })
  @Matches(USD_PER_MILLION, { message: `cache_write ${PRICE_MESSAGE}` })
  cache_write?: string | null;

  @ApiPropertyOptional({ nullable: true, description: 'Hour-long cache writes (Anthropic); null: they cost cache_write' })
  @Nullable()
  @IsString({ message: `cache_write_1h ${PRICE_MESSAGE}` })
  @Matches(USD_PER_MILLION, { message: `cache_write_1h ${PRICE_MESSAGE}` })
  cache_write_1h?: string | null;
}

/** What an operator may change on a model (PATCH): every field optional. */
export class UpdateCatalogModelDto {
  @ApiPropertyOptional({ example: 'gpt-4o-mini', description: "The provider's own model id" })
  @Given()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  upstream_id?: string;

  @ApiPropertyOptional({ example: 'GPT-4o mini' })
  @Given()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ nullable: true, example: 'openai/gpt-4o', description: 'The same model served by another provider: routing treats them as equivalents; null: none' })
  @Nullable()
  @IsString()
  @Matches(CATALOG_ID, { message: 'canonical must be a provider/model id' })
  canonical?: string | null;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_TOKENS_LIMIT, example: 128000 })
  @Given()
  @IsInt()
  @Min(1)
  @Max(MAX_TOKENS_LIMIT)
  context_length?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_TOKENS_LIMIT, example: 16384, description: 'At most context_length; the default output cap (and the hold) of a request without max_tokens' })
  @Given()
  @IsInt()
  @Min(1)
  @Max(MAX_TOKENS_LIMIT)
  max_output_tokens?: number;

  @ApiPropertyOptional({ type: PricingDto })
  @Given()
  @ValidateNested()
  @Type(() => PricingDto)
  pricing?: PricingDto;

  @ApiPropertyOptional({ type: [String], example: ['tools', 'vision', 'json'] })
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

/** A new model (POST): the fields of an update plus its id; the controller requires upstream_id, the limits and the prices. */
export class CreateCatalogModelDto extends UpdateCatalogModelDto {
  @ApiProperty({ example: 'openai/gpt-4o-mini-2026-10-01', description: 'provider/model; the provider must be one the gateway speaks to' })
  @IsString()
  @Matches(CATALOG_ID, { message: 'id must be provider/model' })
  id!: string;
}

/** Fields a new model cannot do without. */
export const REQUIRED_ON_CREATE = ['upstream_id', 'context_length', 'max_output_tokens', 'pricing'] as const;
