/**
 * The one way the product sends email (invitations, auto top-up failures, alerts). Production
 * binds it to SMTP; development and tests to an outbox (a table and a log line).
 */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface EmailPort {
  send(message: EmailMessage): Promise<void>;
}

export const EMAIL_PORT = Symbol('EMAIL_PORT');
