import { Logger } from '@nestjs/common';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { EmailOutboxRepository } from '@gw/db';
import { SmtpEmailAdapter } from './smtp-email.adapter';
import { OutboxEmailAdapter } from './outbox-email.adapter';

/** A minimal SMTP server (RFC 5321 happy path, no STARTTLS) that records each message's DATA. */
function fakeSmtp(received: string[]): Server {
  return createServer((socket) => {
    let data: string | null = null;
    let buffer = '';
    socket.write('220 fake ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (;;) {
        if (data !== null) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end === -1) return;
          received.push(data + buffer.slice(0, end));
          buffer = buffer.slice(end + 5);
          data = null;
          socket.write('250 queued\r\n');
          continue;
        }
        const nl = buffer.indexOf('\r\n');
        if (nl === -1) return;
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250-fake\r\n250 8BITMIME\r\n');
        else if (verb === 'DATA') {
          data = '';
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
}

describe('email adapters', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('SMTP: delivers the message to the configured server', async () => {
    const received: string[] = [];
    const server = fakeSmtp(received);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const smtp = new SmtpEmailAdapter(`smtp://127.0.0.1:${port}`, 'Gateway <no-reply@gateway.test>');
    try {
      await smtp.send({ to: 'dev@example.com', subject: 'You are invited', text: 'Accept with token abc' });
      expect(received).toHaveLength(1);
      expect(received[0]).toContain('Subject: You are invited');
      expect(received[0]).toContain('To: dev@example.com');
      expect(received[0]).toContain('Accept with token abc');
    } finally {
      smtp.onModuleDestroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('outbox: stores the message (lower-cased recipient) instead of sending it', async () => {
    const rows: Array<{ to: string; subject: string; body: string }> = [];
    const repo = { add: async (m: { to: string; subject: string; body: string }) => (rows.push(m), { id: 'mail_1', ...m }) } as unknown as EmailOutboxRepository;
    await new OutboxEmailAdapter(repo, false).send({ to: 'Dev@Example.com', subject: 'Hi', text: 'body' });
    expect(rows).toEqual([{ to: 'dev@example.com', subject: 'Hi', body: 'body' }]);
  });
});
