import { IsNumber, IsString, MaxLength, MinLength } from 'class-validator';

export class AdjustCreditsDto {
  /** USD, negative allowed, at most 6 decimals. */
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 6 })
  amount!: number;

  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason!: string;
}
