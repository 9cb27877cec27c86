import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { LogFilterQueryDto } from './log-filter.dto';

export class DeleteLogsQueryDto extends OmitType(LogFilterQueryDto, ['limit', 'cursor'] as const) {
  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Delete only the stored prompt and completion content, keep the records.' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  content_only?: boolean;
}

class LatencyView {
  @ApiProperty({ type: Number, nullable: true, description: 'Gateway time before the upstream call.' }) gateway_overhead_ms!: number | null;
  @ApiProperty({ type: Number, nullable: true }) time_to_first_byte_ms!: number | null;
  @ApiProperty({ type: Number, nullable: true }) total_ms!: number | null;
}

class AttemptView {
  @ApiProperty() model!: string;
  @ApiProperty() provider!: string;
  @ApiProperty({ description: 'Upstream status; 0 when there was no response.' }) status!: number;
  @ApiPropertyOptional({ description: 'Error class of a failed attempt.' }) error?: string;
  @ApiProperty() latency_ms!: number;
  @ApiPropertyOptional({ description: 'When the attempt began, ms after the request arrived.' }) started_ms?: number;
  @ApiPropertyOptional() byok?: boolean;
}

/** The rate card a charge was made at: the prices captured at reservation, USD per million tokens (as /v1/models). */
class PricingView {
  @ApiProperty({ example: '0.15' }) prompt!: string;
  @ApiProperty({ example: '0.6' }) completion!: string;
  @ApiProperty({ type: String, nullable: true }) cache_read!: string | null;
  @ApiProperty({ type: String, nullable: true }) cache_write!: string | null;
  @ApiProperty({ type: String, nullable: true }) cache_write_1h!: string | null;
  @ApiPropertyOptional({ description: 'Platform charges: the markup, in basis points.' }) markup_bps?: number;
  @ApiPropertyOptional({ description: "Charges on the tenant's own key: the fee, in basis points of the list price." }) byok_fee_bps?: number;
}

/** One request as /api/logs shows it: the same fields as GET /v1/generation, plus the content flag. */
export class RequestLogView {
  @ApiProperty({ description: 'The request id (x-request-id).' }) id!: string;
  @ApiProperty() requested_model!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The model that served it.' }) model!: string | null;
  @ApiProperty({ type: String, nullable: true }) provider!: string | null;
  @ApiProperty({ example: 'chat.completions' }) endpoint!: string;
  @ApiProperty() streamed!: boolean;
  @ApiProperty() status!: number;
  @ApiProperty({ type: String, nullable: true }) error_code!: string | null;
  @ApiProperty({ type: String, nullable: true }) finish_reason!: string | null;
  @ApiProperty({ type: [AttemptView] }) attempts!: AttemptView[];
  @ApiProperty({ type: [String], description: 'Routing decisions that shaped the plan (rules, splits, open circuits).' }) routing!: string[];
  @ApiProperty() tokens_prompt!: number;
  @ApiProperty() tokens_cached!: number;
  @ApiProperty() tokens_cache_write!: number;
  @ApiProperty({ description: 'The part of tokens_cache_write kept for an hour (priced apart).' }) tokens_cache_write_1h!: number;
  @ApiProperty() tokens_completion!: number;
  @ApiProperty() tokens_reasoning!: number;
  @ApiProperty({ description: 'USD charged in all (cost + byok_fee).' }) usage!: number;
  @ApiProperty({ description: 'USD' }) cost!: number;
  @ApiProperty({ description: 'USD' }) byok_fee!: number;
  @ApiProperty({ type: PricingView, nullable: true, description: 'The rate card of the charge; null when nothing was charged.' }) pricing!: PricingView | null;
  @ApiProperty() byok!: boolean;
  @ApiProperty({ description: 'Tokens counted locally because the provider reported none.' }) estimated!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'The end user.' }) user!: string | null;
  @ApiProperty({ type: String, nullable: true }) api_key_id!: string | null;
  @ApiProperty({ type: LatencyView }) latency!: LatencyView;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ description: 'Whether prompt and completion content is stored (privacy opt-in).' }) content_stored!: boolean;
}

export class RequestLogDetailView extends RequestLogView {
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, description: '`{messages, completion}` when stored (opt-in), else null.' }) content!: unknown;
}

export class RequestLogListView {
  @ApiProperty({ type: [RequestLogView] }) data!: RequestLogView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}

export class DeletedLogsView {
  @ApiProperty({ description: 'Records deleted (or, with content_only, records whose content was deleted).' }) deleted!: number;
}
