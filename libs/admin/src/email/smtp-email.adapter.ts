import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import type { EmailMessage, EmailPort } from '@gw/core';

/** Production mail: SMTP through nodemailer (pooled), configured by SMTP_URL and EMAIL_FROM. */
export class SmtpEmailAdapter implements EmailPort, OnModuleDestroy {
  private readonly logger = new Logger('email');
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.transport = createTransport(smtpUrl);
  }

  async send(m: EmailMessage): Promise<void> {
    await this.transport.sendMail({ from: this.from, to: m.to, subject: m.subject, text: m.text });
    // The recipient and subject only: bodies carry invitation tokens.
    this.logger.log(`sent "${m.subject}" to ${m.to}`);
  }

  onModuleDestroy(): void {
    this.transport.close();
  }
}
