import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { ALERT_KINDS } from '@gw/db';
import { ListQueryDto } from '../common/pagination.dto';
import { IsUsd } from '../common/usd.validator';
import { PROVIDER_IDS } from '../provider-keys/provider-keys.dto';

const Given = () => ValidateIf((_o, v) => v !== undefined);

export class CreateAlertDto {
  @ApiProperty({ enum: ALERT_KINDS, description: 'spend_daily / spend_monthly: spend (UTC day or month) at or above `threshold`; balance_below: balance under `threshold`; error_rate: share of failed upstream attempts over `window_minutes` above `threshold_rate`.' })
  @IsIn(ALERT_KINDS)
  kind!: (typeof ALERT_KINDS)[number];

  @ApiPropertyOptional({ type: Number, minimum: 0, maximum: 1_000_000, description: 'USD, for spend and balance rules.' })
  @Given()
  @IsUsd({ min: 0, max: 1_000_000 })
  threshold?: number;

  @ApiPropertyOptional({ type: Number, minimum: 0, maximum: 1, example: 0.25, description: 'error_rate rules: fires when the failed share is above this.' })
  @Given()
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 4 })
  @Min(0)
  @Max(1)
  threshold_rate?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1440, default: 15, description: 'error_rate rules: the sliding window.' })
  @Given()
  @IsInt()
  @Min(1)
  @Max(1440)
  window_minutes?: number;

  @ApiPropertyOptional({ maxLength: 200, example: 'openai/gpt-4o-mini', description: 'error_rate rules: only attempts to this model.' })
  @Given()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/, { message: 'model must be a model id like openai/gpt-4o-mini' })
  model?: string;

  @ApiPropertyOptional({ enum: PROVIDER_IDS, description: 'error_rate rules: only attempts to this provider.' })
  @Given()
  @IsIn(PROVIDER_IDS)
  provider?: string;

  @ApiProperty({ maxLength: 2000, example: 'https://hooks.example.com/gateway-alerts', description: 'Receives a signed POST per crossing. Private, loopback and link-local addresses are refused unless the operator allows them.' })
  @IsString()
  @MaxLength(2000)
  webhook_url!: string;

  @ApiPropertyOptional({ default: true })
  @Given()
  @IsBoolean()
  enabled?: boolean;
}

export class ListDeliveriesQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ maxLength: 100, description: 'Only this rule\'s deliveries.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  rule_id?: string;
}

export class AlertView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ALERT_KINDS }) kind!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'USD' }) threshold!: number | null;
  @ApiProperty({ type: Number, nullable: true }) threshold_rate!: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) window_minutes!: number | null;
  @ApiProperty({ type: String, nullable: true }) model!: string | null;
  @ApiProperty({ type: String, nullable: true }) provider!: string | null;
  @ApiProperty() webhook_url!: string;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ enum: ['armed', 'fired'], description: 'fired until the condition clears; then armed again.' }) state!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_fired_at!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class CreatedAlertView extends AlertView {
  @ApiProperty({ description: 'Signing secret of this rule\'s webhooks (HMAC-SHA256, see the README). Shown once: store it now.' }) secret!: string;
}

export class AlertListView {
  @ApiProperty({ type: [AlertView] }) data!: AlertView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}

export class AlertDeliveryView {
  @ApiProperty({ description: 'Also the payload `id` and the `x-gateway-delivery` header.' }) id!: string;
  @ApiProperty() rule_id!: string;
  @ApiProperty({ enum: ['pending', 'retrying', 'delivered', 'failed'] }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'HTTP status of the last attempt.' }) response_status!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed.' }) error!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The JSON body sent; for a spend or balance rule without `observed` and `message` unless the caller may read billing.' }) payload!: unknown;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) delivered_at!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class AlertDeliveryListView {
  @ApiProperty({ type: [AlertDeliveryView] }) data!: AlertDeliveryView[];
  @ApiProperty({ type: String, nullable: true }) next_cursor!: string | null;
}
