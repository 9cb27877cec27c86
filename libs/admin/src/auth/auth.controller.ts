import { Body, HttpCode, Post } from '@nestjs/common';
import { AdminController } from '../common/admin-controller.decorator';
import { DomainError, ErrorCode } from '@gw/core';
import { AuthService } from './auth.service';
import { ChangePasswordDto, LoginDto, SignupDto } from './auth.dto';
import { CurrentPrincipal, Public, type Principal } from './principal';

@AdminController('api/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('signup')
  signup(@Body() dto: SignupDto) {
    return this.auth.signup(dto);
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  login(@Body() dto: LoginDto) {
    return this.auth.login(dto.email, dto.password);
  }

  @Post('password')
  @HttpCode(200)
  async password(@CurrentPrincipal() p: Principal, @Body() dto: ChangePasswordDto) {
    if (p.kind === 'management_key' || !('userId' in p) || !p.userId) {
      throw new DomainError(ErrorCode.Forbidden, 'Only a signed-in user can change a password');
    }
    await this.auth.changePassword(p.userId, dto.current_password, dto.new_password);
    return { ok: true };
  }
}
