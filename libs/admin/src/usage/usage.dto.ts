import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { USAGE_DIMENSIONS } from '@gw/db';
import { LogFilterQueryDto } from '../logs/log-filter.dto';

const DIM = `(${USAGE_DIMENSIONS.join('|')})`;
export const GROUP_BY = new RegExp(`^${DIM}(,${DIM}){0,2}$`);

export class UsageQueryDto extends LogFilterQueryDto {
  @ApiPropertyOptional({ maxLength: 40, default: 'model', example: 'model,day', description: `Up to three of ${USAGE_DIMENSIONS.join(', ')} (UTC days), comma-separated.` })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  @Matches(GROUP_BY, { message: `group_by must be up to three of ${USAGE_DIMENSIONS.join(', ')}, comma-separated` })
  group_by?: string;

  // A report is usually read whole: a larger default page than other lists.
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 100, description: 'Groups per page.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  override limit = 100;
}

/** Sums of one group (or of the whole range, for `totals`). */
export class UsageSumsView {
  @ApiProperty() requests!: number;
  @ApiProperty({ description: 'Requests answered with a 4xx or 5xx.' }) errors!: number;
  @ApiProperty() prompt_tokens!: number;
  @ApiProperty({ description: 'Cache reads, part of prompt_tokens.' }) cached_tokens!: number;
  @ApiProperty() completion_tokens!: number;
  @ApiProperty({ description: 'Part of completion_tokens.' }) reasoning_tokens!: number;
  @ApiProperty() total_tokens!: number;
  @ApiProperty({ description: 'USD charged for usage.' }) cost!: number;
  @ApiProperty({ description: 'USD of BYOK fees.' }) byok_fee!: number;
  @ApiProperty({ description: 'USD paid in all (cost + byok_fee).' }) total_cost!: number;
  @ApiProperty({ description: 'total_cost in micro-USD, exact.' }) total_cost_micros!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'USD actually paid per million tokens (prompt + completion): compare models side by side.' })
  cost_per_million_tokens!: number | null;
  @ApiProperty({ type: Number, nullable: true }) avg_latency_ms!: number | null;
  @ApiProperty({ type: Number, nullable: true }) avg_time_to_first_byte_ms!: number | null;
}

export class UsageGroupView extends UsageSumsView {
  @ApiPropertyOptional({ type: String, nullable: true, description: 'The served model (the requested one when none served).' }) model?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) provider?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'API key id.' }) key?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'End user.' }) user?: string | null;
  @ApiPropertyOptional({ type: String, description: 'UTC date, YYYY-MM-DD.' }) day?: string;
}

export class UsageReportView {
  @ApiProperty({ type: [UsageGroupView] }) data!: UsageGroupView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
  @ApiProperty({ type: [String], enum: USAGE_DIMENSIONS }) group_by!: string[];
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) to!: string | null;
  @ApiProperty({ type: UsageSumsView, description: 'The whole range, all groups together.' }) totals!: UsageSumsView;
}
