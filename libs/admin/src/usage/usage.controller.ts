import { Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { Clock } from '@gw/core';
import { AdminController } from '../common/admin-controller.decorator';
import { Requires } from '../common/permissions';
import { scopeOf } from '../common/scope';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { filterOf } from '../logs/log-filter.dto';
import { UsageQueryDto, UsageReportView } from './usage.dto';
import { UsageService } from './usage.service';

const DEFAULT_RANGE_MS = 30 * 86_400_000;

/** /api/usage: spend and tokens grouped; management keys may read it (usage:read). */
@AdminController('api/usage')
export class UsageController {
  constructor(
    private readonly usage: UsageService,
    private readonly clock: Clock,
  ) {}

  @Get()
  @Requires('usage:read')
  @ApiOperation({ summary: 'Spend, tokens and cost per million tokens, grouped by model, provider, key, user and/or UTC day (default: by model, last 30 days)' })
  @ApiOkResponse({ type: UsageReportView })
  report(@CurrentPrincipal() p: Principal, @Query() q: UsageQueryDto) {
    // Without `from`, the 30 days up to `to` (or now).
    const end = q.to ? Date.parse(q.to) : this.clock.now();
    const filter = filterOf(q, new Date(end - DEFAULT_RANGE_MS));
    return this.usage.report(scopeOf(p), { ...filter, from: filter.from! }, q.group_by, { limit: q.limit, cursor: q.cursor });
  }
}
