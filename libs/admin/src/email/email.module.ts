import { Logger, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, EMAIL_PORT } from '@gw/core';
import { EmailOutboxRepository } from '@gw/db';
import { OutboxEmailAdapter } from './outbox-email.adapter';
import { SmtpEmailAdapter } from './smtp-email.adapter';

/**
 * Binds the one email port (EMAIL_PORT from @gw/core): SMTP when SMTP_URL is set, otherwise the
 * outbox (a table and a log line). Any app can import it; it needs CoreModule and DbModule.
 */
@Module({
  providers: [
    {
      provide: EMAIL_PORT,
      inject: [APP_CONFIG, EmailOutboxRepository],
      useFactory: (config: AppConfig, outbox: EmailOutboxRepository) => {
        if (config.SMTP_URL) return new SmtpEmailAdapter(config.SMTP_URL, config.EMAIL_FROM);
        if (config.NODE_ENV === 'production') {
          new Logger('email').warn('SMTP_URL is not set: email (invitations, alerts) goes to the email_outbox table only');
        }
        return new OutboxEmailAdapter(outbox, config.NODE_ENV === 'development');
      },
    },
  ],
  exports: [EMAIL_PORT],
})
export class EmailModule {}
