import { Injectable } from '@nestjs/common';
import { newId } from '@gw/core';
import { PrismaService } from '../prisma.service';

/** Development and test mail: what the outbox email adapter "sends". Not tenant data. */
@Injectable()
export class EmailOutboxRepository {
  constructor(private readonly prisma: PrismaService) {}

  add(message: { to: string; subject: string; body: string }) {
    return this.prisma.emailOutbox.create({ data: { id: newId('mail'), ...message, sentAt: new Date() } });
  }

  /** The newest messages to one address (tests and local development read invitations here). */
  listTo(to: string, take = 20) {
    return this.prisma.emailOutbox.findMany({ where: { to: to.toLowerCase() }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take });
  }
}
