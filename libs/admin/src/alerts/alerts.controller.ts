import { Body, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { ListQueryDto } from '../common/pagination.dto';
import { can, Requires } from '../common/permissions';
import { scopeOf } from '../common/scope';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { DeletedView } from '../members/members.dto';
import { AlertDeliveryListView, AlertListView, AlertView, CreateAlertDto, CreatedAlertView, ListDeliveriesQueryDto } from './alerts.dto';
import { AlertsService, alertView } from './alerts.service';

/** /api/alerts: spend, balance and error-rate alerts delivered to signed webhooks; every role reads, owners and admins change. */
@AdminController('api/alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @Requires('settings:read')
  @ApiOkResponse({ type: AlertListView })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListQueryDto) {
    return this.alerts.list(scopeOf(p), q);
  }

  @Post()
  @Requires('settings:write')
  @ApiOperation({ summary: 'Create a rule; the webhook signing secret is in this answer only' })
  @ApiCreatedResponse({ type: CreatedAlertView })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateAlertDto) {
    return this.alerts.create(scopeOf(p), dto);
  }

  @Get('deliveries')
  @Requires('settings:read')
  @ApiOperation({ summary: 'Webhook deliveries, newest first: one per crossing, with attempts, last status and error; spend and balance readings only with billing:read' })
  @ApiOkResponse({ type: AlertDeliveryListView })
  deliveries(@CurrentPrincipal() p: Principal, @Query() q: ListDeliveriesQueryDto) {
    return this.alerts.deliveriesOf(scopeOf(p), { limit: q.limit, cursor: q.cursor, ruleId: q.rule_id }, can(p, 'billing:read'));
  }

  @Get(':id')
  @Requires('settings:read')
  @ApiOkResponse({ type: AlertView })
  async get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return alertView(await this.alerts.get(scopeOf(p), id));
  }

  @Delete(':id')
  @Requires('settings:write')
  @ApiOkResponse({ type: DeletedView })
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    await this.alerts.delete(scopeOf(p), id);
    return { id, deleted: true };
  }
}
