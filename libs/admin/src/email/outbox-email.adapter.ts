import { Logger } from '@nestjs/common';
import type { EmailMessage, EmailPort } from '@gw/core';
import type { EmailOutboxRepository } from '@gw/db';

/**
 * Development and test mail: each message becomes an email_outbox row and a log line, so a
 * developer (or a test) can read invitations without an SMTP server.
 */
export class OutboxEmailAdapter implements EmailPort {
  private readonly logger = new Logger('email');

  constructor(
    private readonly outbox: EmailOutboxRepository,
    /** Development prints the body (it holds the invitation link); tests and production never do. */
    private readonly logBodies: boolean,
  ) {}

  async send(m: EmailMessage): Promise<void> {
    const row = await this.outbox.add({ to: m.to.toLowerCase(), subject: m.subject, body: m.text });
    this.logger.log(`outbox ${row.id}: "${m.subject}" to ${m.to}${this.logBodies ? `\n${m.text}` : ''}`);
  }
}
