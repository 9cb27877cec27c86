import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { BillingCoreModule } from '@gw/billing';
import { KeysModule } from '../keys/keys.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { AdminBearerStrategy } from './bearer.strategy';
import { AdminAuthGuard } from './admin-auth.guard';
import { PasswordHasher } from './password-hasher';
import { AuthThrottle } from './auth-throttle';

/** Sign-up, login, sessions and the bearer strategy every /api controller's guard uses. */
@Module({
  imports: [
    BillingCoreModule,
    KeysModule,
    PassportModule,
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => ({ secret: c.jwtSecret, signOptions: { expiresIn: c.JWT_TTL_SECONDS, algorithm: 'HS256' } }),
    }),
  ],
  controllers: [AuthController],
  providers: [AuthService, AdminBearerStrategy, AdminAuthGuard, PasswordHasher, AuthThrottle],
  exports: [AuthService, PasswordHasher, AuthThrottle],
})
export class AuthModule {}
