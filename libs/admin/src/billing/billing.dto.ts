import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { IsUsd } from '../common/usd.validator';

/** What a card can be charged: whole cents (TOPUP_MIN_USD..TOPUP_MAX_USD is checked by the use case). */
const CARD_AMOUNT = { min: 0.01, max: 1_000_000, decimals: 2 } as const;

export class CheckoutDto {
  @ApiProperty({ example: 25, description: 'USD, whole cents, within TOPUP_MIN_USD..TOPUP_MAX_USD.' })
  @IsUsd(CARD_AMOUNT)
  amount!: number;

  @ApiPropertyOptional({ default: false, description: 'Keep the card for off-session charges (needed by auto top-up).' })
  @IsOptional()
  @IsBoolean()
  save_card?: boolean;
}

export class AutoTopupDto {
  @ApiProperty({ description: 'Charge the saved card when the balance falls below `threshold`.' })
  @IsBoolean()
  enabled!: boolean;

  @ApiProperty({ example: 5, description: 'USD.' })
  @IsUsd({ min: 0, max: 1_000_000, decimals: 2 })
  threshold!: number;

  @ApiProperty({ example: 20, description: 'USD charged per crossing, within TOPUP_MIN_USD..TOPUP_MAX_USD.' })
  @IsUsd(CARD_AMOUNT)
  amount!: number;
}
