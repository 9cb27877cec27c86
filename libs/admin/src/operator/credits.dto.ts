import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { IsUsd } from '../common/usd.validator';

/**
 * One adjustment moves at most what the largest top-up may (the money DTOs' 1,000,000 USD cap):
 * more is a typo (an extra zero or three), and a real grant that large is a few entries. It also
 * keeps any one entry far inside what the Redis balance can hold (2^53 micros, ~9 billion USD);
 * the tenant's resulting total is checked against that range before the entry is written.
 */
export const MAX_ADJUSTMENT_USD = 1_000_000;

export class AdjustCreditsDto {
  @ApiProperty({ type: Number, minimum: -MAX_ADJUSTMENT_USD, maximum: MAX_ADJUSTMENT_USD, example: 25, description: 'USD, negative to debit, at most 6 decimals, not zero.' })
  @IsUsd({ min: -MAX_ADJUSTMENT_USD, max: MAX_ADJUSTMENT_USD })
  amount!: number;

  @ApiProperty({ minLength: 1, maxLength: 500, example: 'goodwill credit for the 2026-05-01 outage' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason!: string;
}
