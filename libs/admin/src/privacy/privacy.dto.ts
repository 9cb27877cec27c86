import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';

export const MAX_RETENTION_DAYS = 3650;

export class PrivacySettingsDto {
  @ApiProperty({ description: 'Store prompt and completion content with each request log. Off by default: only metadata (models, tokens, cost, latency) is kept.' })
  @IsBoolean()
  log_content!: boolean;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_RETENTION_DAYS, description: 'Days stored content is kept; the retention job deletes it after that.' })
  @IsInt()
  @Min(1)
  @Max(MAX_RETENTION_DAYS)
  retention_days!: number;
}

export class PrivacySettingsView {
  @ApiProperty() log_content!: boolean;
  @ApiProperty({ type: 'integer' }) retention_days!: number;
  @ApiProperty({ type: 'integer', description: 'Days after which request logs themselves are deleted (the operator\'s REQUEST_LOG_RETENTION_DAYS).' })
  log_retention_days!: number;
}
