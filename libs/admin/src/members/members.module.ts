import { Module } from '@nestjs/common';
import { EmailModule } from '../email/email.module';
import { AuthModule } from '../auth/auth.module';
import { MembersController } from './members.controller';
import { InvitesController } from './invites.controller';
import { MembersService } from './members.service';

/** The team: members with roles and their invitations (/api/members, /api/invites). */
@Module({
  imports: [EmailModule, AuthModule],
  controllers: [MembersController, InvitesController],
  providers: [MembersService],
})
export class MembersModule {}
