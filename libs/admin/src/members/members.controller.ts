import { Body, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { DomainError, ErrorCode } from '@gw/core';
import { AdminController } from '../common/admin-controller.decorator';
import { ListQueryDto } from '../common/pagination.dto';
import { Requires } from '../common/permissions';
import { actorOf, scopeOf } from '../common/scope';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { MembersService, type Actor } from './members.service';
import { DeletedView, InviteMemberDto, InviteView, MemberListView, MemberView, UpdateMemberDto } from './members.dto';

/** /api/members: every role reads the team; owners and admins invite, change and remove. */
@AdminController('api/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @Requires('members:read')
  @ApiOkResponse({ type: MemberListView })
  list(@CurrentPrincipal() p: Principal, @Query() q: ListQueryDto) {
    return this.members.list(scopeOf(p), q);
  }

  @Post()
  @Requires('members:write')
  @ApiOperation({ summary: 'Invite a member by email (a token valid INVITE_TTL_HOURS, sent through the email port)' })
  @ApiCreatedResponse({ type: InviteView })
  invite(@CurrentPrincipal() p: Principal, @Body() dto: InviteMemberDto) {
    return this.members.invite(scopeOf(p), actor(p), dto);
  }

  @Get(':id')
  @Requires('members:read')
  @ApiOkResponse({ type: MemberView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.members.get(scopeOf(p), id);
  }

  @Patch(':id')
  @Requires('members:write')
  @ApiOperation({ summary: "Change a member's role (only owners touch the owner role; the last owner stays)" })
  @ApiOkResponse({ type: MemberView })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() dto: UpdateMemberDto) {
    return this.members.changeRole(scopeOf(p), actor(p), id, dto.role);
  }

  @Delete(':id')
  @Requires('members:write')
  @ApiOperation({ summary: 'Remove a member; their sessions stop working at once' })
  @ApiOkResponse({ type: DeletedView })
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    await this.members.remove(scopeOf(p), actor(p), id);
    return { id, deleted: true };
  }
}

function actor(p: Principal): Actor {
  if (p.kind !== 'user') throw new DomainError(ErrorCode.Forbidden, 'Only a signed-in member can manage the team');
  return { userId: actorOf(p), role: p.role };
}
