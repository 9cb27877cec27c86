import type { TestApp } from './test-app';
import { call } from './admin-api';

/** A tenant owning one object of every kind the admin API manages. */
export interface TenantFixture {
  tenantId: string;
  /** The owner's JWT. */
  token: string;
  apiKey: string;
  email: string;
  ids: { key: string; managementKey: string; member: string; invite: string; providerKey: string; alert: string; log: string };
  managementKey: string;
  memberToken: string;
}

let n = 0;

/** The invitation token from the outbox email (how a real invitee gets it). */
export async function inviteTokenFor(t: TestApp, email: string): Promise<string> {
  const mail = await t.prisma.emailOutbox.findFirstOrThrow({ where: { to: email.toLowerCase() }, orderBy: { createdAt: 'desc' } });
  const m = /Invitation token: ([A-Za-z0-9_-]{43})/.exec(mail.body);
  if (!m) throw new Error(`no invitation token in: ${mail.body}`);
  return m[1]!;
}

export async function populatedTenant(t: TestApp, label = 'fx'): Promise<TenantFixture> {
  const stamp = `${label}-${process.pid}-${Date.now()}-${n++}`;
  const email = `owner-${stamp}@example.com`;
  const s = await t.signup(email);
  const ok = <T>(r: { status: number; body: T }, status: number): T => {
    if (r.status !== status) throw new Error(`fixture setup failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const as = { token: s.token };
  const key = ok(await call(t.url, 'POST', '/api/keys', { ...as, body: { name: 'fixture key', rpm_limit: 100 } }), 201);
  const mgmt = ok(await call(t.url, 'POST', '/api/keys', { ...as, body: { name: 'provisioning', kind: 'management' } }), 201);
  const pk = ok(await call(t.url, 'POST', '/api/provider-keys', { ...as, body: { provider: 'openai', api_key: `sk-own-${stamp}-secret`, label: 'mine' } }), 201);
  const invite = ok(await call(t.url, 'POST', '/api/members', { ...as, body: { email: `pending-${stamp}@example.com`, role: 'developer' } }), 201);
  const memberEmail = `member-${stamp}@example.com`;
  ok(await call(t.url, 'POST', '/api/members', { ...as, body: { email: memberEmail, role: 'viewer' } }), 201);
  const accepted = ok(
    await call(t.url, 'POST', `/api/invites/${await inviteTokenFor(t, memberEmail)}/accept`, { body: { password: 'member password 1' } }),
    201,
  );
  ok(await call(t.url, 'PUT', '/api/routing', { ...as, body: { aliases: { 'my-fast': { targets: [{ model: 'openai/gpt-4o-mini' }] } } } }), 200);
  // A public address literal: passes the webhook SSRF check without DNS; nothing is delivered here.
  const alert = ok(await call(t.url, 'POST', '/api/alerts', { ...as, body: { kind: 'spend_daily', threshold: 100, webhook_url: 'https://93.184.215.14/alerts' } }), 201);
  // Request logs are written by the billing worker's drain; one row stands in for a served request.
  const log = await t.prisma.requestLog.create({
    data: { requestId: `gen-fixture-${stamp}`, tenantId: s.tenantId, requestedModel: 'openai/gpt-4o-mini', endpoint: 'chat.completions', status: 200 },
  });
  return {
    tenantId: s.tenantId,
    token: s.token,
    apiKey: s.apiKey,
    email,
    ids: { key: key.id, managementKey: mgmt.id, member: accepted.user.id, invite: invite.id, providerKey: pk.id, alert: alert.id, log: log.requestId },
    managementKey: mgmt.key,
    memberToken: accepted.token,
  };
}
