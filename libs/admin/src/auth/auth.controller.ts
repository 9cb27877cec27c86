import { Body, Get, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { DomainError, ErrorCode } from '@gw/core';
import { TenantRepository, UserRepository } from '@gw/db';
import { AdminController } from '../common/admin-controller.decorator';
import { AuthService } from './auth.service';
import { ChangePasswordDto, LoginDto, SignupDto, TokenView } from './auth.dto';
import { CurrentPrincipal, Public, type Principal } from './principal';

@AdminController('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UserRepository,
    private readonly tenants: TenantRepository,
  ) {}

  @Public()
  @Post('signup')
  @ApiOperation({ summary: 'Create a tenant, its owner and a first API key (shown once)' })
  @ApiTooManyRequestsResponse({ description: 'Too many sign-ups from this IP (Retry-After).' })
  signup(@Body() dto: SignupDto, @Ip() ip: string) {
    return this.auth.signupFrom(ip, dto);
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange email and password for a JWT' })
  @ApiOkResponse({ type: TokenView })
  @ApiTooManyRequestsResponse({ description: 'Too many failed attempts for this IP or account (Retry-After).' })
  login(@Body() dto: LoginDto, @Ip() ip: string) {
    return this.auth.login(dto.email, dto.password, ip);
  }

  @Post('password')
  @HttpCode(200)
  @ApiOperation({ summary: 'Change your password; returns a new token, older sessions end' })
  @ApiOkResponse({ type: TokenView })
  @ApiTooManyRequestsResponse({ description: 'Too many failed attempts for this IP or account (Retry-After).' })
  async password(@CurrentPrincipal() p: Principal, @Body() dto: ChangePasswordDto, @Ip() ip: string) {
    const { token } = await this.auth.changePassword(personOf(p), dto.current_password, dto.new_password, ip);
    return { ok: true, token };
  }

  @Get('me')
  @ApiOperation({ summary: 'Who is calling: user, role and tenant' })
  async me(@CurrentPrincipal() p: Principal) {
    const user = await this.users.findById(personOf(p));
    if (!user) throw new DomainError(ErrorCode.Unauthorized, 'Invalid or expired token');
    const tenant = user.tenantId ? await this.tenants.findById(user.tenantId) : null;
    return {
      user: { id: user.id, email: user.email, name: user.name, role: user.role, operator: user.isOperator, created_at: user.createdAt.toISOString() },
      tenant: tenant ? { id: tenant.id, name: tenant.name, created_at: tenant.createdAt.toISOString() } : null,
    };
  }
}

/** The signed-in person behind a principal (management keys and ADMIN_TOKEN have none). */
function personOf(p: Principal): string {
  if (p.kind === 'management_key' || !p.userId) throw new DomainError(ErrorCode.Forbidden, 'Only a signed-in user can do this');
  return p.userId;
}
