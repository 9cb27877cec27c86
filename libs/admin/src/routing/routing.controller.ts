import { Body, Get, Put } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { Requires } from '../common/permissions';
import { scopeOf } from '../common/scope';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { RoutingService } from './routing.service';
import { ROUTING_EXTRA_MODELS, RoutingDocumentDoc } from './routing.dto';

/** /api/routing: the tenant's aliases, provider preferences, parameter and data policies, rules. */
@AdminController('api/routing')
@ApiExtraModels(...ROUTING_EXTRA_MODELS)
export class RoutingController {
  constructor(private readonly routing: RoutingService) {}

  @Get()
  @Requires('routing:read')
  @ApiOperation({ summary: 'The routing document (defaults when never saved); PUT it back edited' })
  @ApiOkResponse({ type: RoutingDocumentDoc })
  get(@CurrentPrincipal() p: Principal) {
    return this.routing.get(scopeOf(p));
  }

  @Put()
  @Requires('routing:write')
  @ApiOperation({ summary: 'Replace the routing document; missing sections take defaults; a bad field is a 400 naming it' })
  @ApiBody({ type: RoutingDocumentDoc })
  @ApiOkResponse({ type: RoutingDocumentDoc })
  put(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.routing.put(scopeOf(p), body);
  }
}
