import { Delete, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { Requires } from '../common/permissions';
import { scopeOf } from '../common/scope';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { DeletedView } from '../members/members.dto';
import { filterOf, LogFilterQueryDto } from './log-filter.dto';
import { DeletedLogsView, DeleteLogsQueryDto, RequestLogDetailView, RequestLogListView } from './logs.dto';
import { LogsService } from './logs.service';

/** /api/logs: one record per request (newest first), filtered; every role reads, owners and admins delete. */
@AdminController('api/logs')
export class LogsController {
  constructor(private readonly logs: LogsService) {}

  @Get()
  @Requires('logs:read')
  @ApiOperation({ summary: 'Request logs, newest first, filtered by time, model, provider, key, status, user or error code' })
  @ApiOkResponse({ type: RequestLogListView })
  list(@CurrentPrincipal() p: Principal, @Query() q: LogFilterQueryDto) {
    return this.logs.list(scopeOf(p), filterOf(q), { limit: q.limit, cursor: q.cursor });
  }

  @Delete()
  @Requires('logs:write')
  @ApiOperation({ summary: 'Delete the request logs matching the filters (all of them without filters), or only their stored content' })
  @ApiOkResponse({ type: DeletedLogsView })
  deleteMatching(@CurrentPrincipal() p: Principal, @Query() q: DeleteLogsQueryDto) {
    return this.logs.deleteMatching(scopeOf(p), filterOf(q), q.content_only === true);
  }

  @Get(':id')
  @Requires('logs:read')
  @ApiOperation({ summary: 'One request log, with its prompt and completion when the tenant opted in to storing them' })
  @ApiOkResponse({ type: RequestLogDetailView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.logs.get(scopeOf(p), id);
  }

  @Delete(':id')
  @Requires('logs:write')
  @ApiOkResponse({ type: DeletedView })
  deleteOne(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.logs.deleteOne(scopeOf(p), id);
  }
}
