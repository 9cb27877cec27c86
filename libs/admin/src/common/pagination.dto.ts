import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { Page } from '@gw/db';

/** `?limit=&cursor=` of every list endpoint. */
export class ListQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'Page size.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit = 20;

  // Room for the longest cursor any list hands out: /api/usage's carries its group's values
  // (a 512-character end-user id among them).
  @ApiPropertyOptional({ maxLength: 4096, description: 'The `next_cursor` of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  cursor?: string;
}

/** The list envelope of the admin API (OpenAI/Stripe style). */
export interface ListResponse<T> {
  data: T[];
  next_cursor: string | null;
}

export function listOf<R, T>(page: Page<R>, view: (row: R) => T): ListResponse<T> {
  return { data: page.rows.map(view), next_cursor: page.nextCursor };
}
