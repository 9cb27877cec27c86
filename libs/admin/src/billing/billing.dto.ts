import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNumber, IsOptional, Max, Min } from 'class-validator';

const USD = { allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 } as const;

export class CheckoutDto {
  @ApiProperty({ example: 25, description: 'USD, whole cents, within TOPUP_MIN_USD..TOPUP_MAX_USD.' })
  @IsNumber(USD)
  @Min(0.01)
  @Max(1_000_000)
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
  @IsNumber(USD)
  @Min(0)
  @Max(1_000_000)
  threshold!: number;

  @ApiProperty({ example: 20, description: 'USD charged per crossing, within TOPUP_MIN_USD..TOPUP_MAX_USD.' })
  @IsNumber(USD)
  @Min(0.01)
  @Max(1_000_000)
  amount!: number;
}
