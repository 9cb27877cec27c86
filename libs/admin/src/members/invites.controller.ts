import { Body, Delete, Get, Ip, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { AdminController } from '../common/admin-controller.decorator';
import { ListQueryDto } from '../common/pagination.dto';
import { Requires } from '../common/permissions';
import { scopeOf } from '../common/scope';
import { CurrentPrincipal, Public, type Principal } from '../auth/principal';
import { AuthThrottle } from '../auth/auth-throttle';
import { MembersService } from './members.service';
import { AcceptInviteDto, DeletedView, InviteListView, InviteView } from './members.dto';

/** /api/invites: pending invitations of the tenant, and the public accept step. */
@AdminController('api/invites')
export class InvitesController {
  constructor(
    private readonly members: MembersService,
    private readonly throttle: AuthThrottle,
  ) {}

  @Get()
  @Requires('members:read')
  @ApiOperation({ summary: 'Pending invitations' })
  @ApiOkResponse({ type: InviteListView })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListQueryDto) {
    return this.members.listInvites(scopeOf(p), q);
  }

  @Get(':id')
  @Requires('members:read')
  @ApiOkResponse({ type: InviteView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.members.getInvite(scopeOf(p), id);
  }

  @Delete(':id')
  @Requires('members:write')
  @ApiOperation({ summary: 'Revoke a pending invitation (its token stops working)' })
  @ApiOkResponse({ type: DeletedView })
  async revoke(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    await this.members.revokeInvite(scopeOf(p), id);
    return { id, deleted: true };
  }

  @Public()
  @Post(':token/accept')
  @ApiOperation({ summary: 'Accept an invitation with the token from the email: creates your account and signs you in' })
  @ApiCreatedResponse({ description: '`{token, user, tenant}`' })
  @ApiTooManyRequestsResponse({ description: 'Too many attempts from this IP (Retry-After).' })
  async accept(@Param('token') token: string, @Body() dto: AcceptInviteDto, @Ip() ip: string) {
    // Same budget as sign-up: both create accounts, and tokens must not be guessed at volume.
    await this.throttle.take(this.throttle.signupBuckets(ip));
    return this.members.accept(token, dto);
  }
}
