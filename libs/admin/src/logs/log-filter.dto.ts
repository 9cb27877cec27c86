import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { DomainError, ErrorCode } from '@gw/core';
import type { RequestLogFilter } from '@gw/db';
import { ListQueryDto } from '../common/pagination.dto';

/** `status`: one code (`429`), a class (`5xx`), or `success` (2xx) / `error` (4xx and 5xx). */
const STATUS = /^([1-5]\d\d|[1-5]xx|success|error)$/;

/** The filters of request logs, shared by GET /api/logs, DELETE /api/logs and GET /api/usage. */
export class LogFilterQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ format: 'date-time', maxLength: 40, description: 'Requests at or after this instant.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(40)
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', maxLength: 40, description: 'Requests before this instant.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(40)
  to?: string;

  @ApiPropertyOptional({ maxLength: 200, example: 'openai/gpt-4o-mini', description: 'Requested or served model (a fallback request matches both).' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  model?: string;

  @ApiPropertyOptional({ maxLength: 50, example: 'anthropic', description: 'The provider that served the request.' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  provider?: string;

  @ApiPropertyOptional({ maxLength: 100, description: 'API key id.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  key?: string;

  @ApiPropertyOptional({ maxLength: 7, example: '5xx', description: 'A status (`429`), a class (`4xx`), `success` or `error`.' })
  @IsOptional()
  @IsString()
  @MaxLength(7)
  @Matches(STATUS, { message: 'status must be a status code, a class like 4xx, success or error' })
  status?: string;

  // As long as the `user` a request may carry (512), so every end user logged can be looked up.
  @ApiPropertyOptional({ maxLength: 512, description: 'The end user (`user` of the request).' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  user?: string;

  @ApiPropertyOptional({ maxLength: 100, example: 'upstream_rate_limited' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  error_code?: string;
}

function statusRange(s: string): { min: number; max: number } {
  if (s === 'success') return { min: 200, max: 299 };
  if (s === 'error') return { min: 400, max: 599 };
  if (s.endsWith('xx')) return { min: Number(s[0]) * 100, max: Number(s[0]) * 100 + 99 };
  return { min: Number(s), max: Number(s) };
}

/** Query to repository filter; `defaultFrom` opens a range when the caller gave none. */
export function filterOf(q: Omit<LogFilterQueryDto, 'limit' | 'cursor'>, defaultFrom?: Date): RequestLogFilter {
  const from = q.from ? new Date(q.from) : defaultFrom;
  const to = q.to ? new Date(q.to) : undefined;
  if (from && to && from >= to) throw new DomainError(ErrorCode.InvalidBody, 'from must be before to', { param: 'from' });
  return {
    from,
    to,
    model: q.model,
    provider: q.provider,
    apiKeyId: q.key,
    status: q.status ? statusRange(q.status) : undefined,
    endUser: q.user,
    errorCode: q.error_code,
  };
}
