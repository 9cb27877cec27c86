import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig, Clock, DomainError, EMAIL_PORT, type EmailPort, ErrorCode } from '@gw/core';
import { InviteRepository, MemberRepository, Prisma, TenantRepository, UserRepository, type Member, type MemberChange, type PageRequest, type TenantScope } from '@gw/db';
import { listOf, type ListResponse } from '../common/pagination.dto';
import { PasswordHasher } from '../auth/password-hasher';
import { AuthService } from '../auth/auth.service';
import type { InviteView, MemberView, RoleName } from './members.dto';

/** Who is acting on the team, as the service needs it. */
export interface Actor {
  userId: string | null;
  role: string;
}

type InviteRow = NonNullable<Awaited<ReturnType<InviteRepository['get']>>>;

export function memberView(m: Member): MemberView {
  return { id: m.id, email: m.email, name: m.name, role: m.role, created_at: m.createdAt.toISOString() };
}

export function inviteView(i: InviteRow, now: number): InviteView {
  const status = i.acceptedAt ? 'accepted' : i.expiresAt.getTime() <= now ? 'expired' : 'pending';
  return { id: i.id, email: i.email, role: i.role, status, expires_at: i.expiresAt.toISOString(), created_at: i.createdAt.toISOString() };
}

/** Invitation tokens: 256 random bits, shown only in the email; the database keeps a SHA-256. */
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The team of a tenant: members with roles, invited by a token delivered through the email
 * port. Owners are special: only an owner grants, changes or removes the owner role, and the
 * last owner can never be demoted or removed (checked under a lock in the repository).
 */
@Injectable()
export class MembersService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EMAIL_PORT) private readonly email: EmailPort,
    private readonly members: MemberRepository,
    private readonly invites: InviteRepository,
    private readonly users: UserRepository,
    private readonly tenants: TenantRepository,
    private readonly hasher: PasswordHasher,
    private readonly auth: AuthService,
    private readonly clock: Clock,
  ) {}

  async list(scope: TenantScope, req: PageRequest): Promise<ListResponse<MemberView>> {
    return listOf(await this.members.page(scope, req), memberView);
  }

  async get(scope: TenantScope, id: string): Promise<MemberView> {
    const m = await this.members.get(scope, id);
    if (!m) throw notFound('member');
    return memberView(m);
  }

  async invite(scope: TenantScope, actor: Actor, input: { email: string; role: RoleName }): Promise<InviteView> {
    if (input.role === 'owner') assertOwner(actor, 'grant the owner role');
    const email = input.email.toLowerCase();
    // Accounts are global (one tenant per user): inviting an existing account cannot succeed.
    if (await this.users.findByEmail(email)) {
      throw new DomainError(ErrorCode.Conflict, 'An account with this email already exists', { param: 'email' });
    }
    const token = randomBytes(32).toString('base64url');
    const invite = await this.invites.create(scope, {
      email,
      role: input.role,
      tokenHash: hashToken(token),
      invitedBy: actor.userId,
      expiresAt: new Date(this.clock.now() + this.config.INVITE_TTL_HOURS * 3_600_000),
    });
    const tenant = await this.tenants.findById(scope.tenantId);
    await this.email.send({ to: email, subject: `You are invited to ${tenant?.name ?? 'a team'} on the LLM gateway`, text: this.inviteText(token, input.role, tenant?.name, invite.expiresAt) });
    return inviteView(invite, this.clock.now());
  }

  async listInvites(scope: TenantScope, req: PageRequest): Promise<ListResponse<InviteView>> {
    const now = this.clock.now();
    return listOf(await this.invites.page(scope, req), (i) => inviteView(i, now));
  }

  async getInvite(scope: TenantScope, id: string): Promise<InviteView> {
    const i = await this.invites.get(scope, id);
    if (!i) throw notFound('invitation');
    return inviteView(i, this.clock.now());
  }

  async revokeInvite(scope: TenantScope, id: string): Promise<void> {
    if (!(await this.invites.deletePending(scope, id))) throw notFound('invitation');
  }

  async changeRole(scope: TenantScope, actor: Actor, id: string, role: RoleName): Promise<MemberView> {
    const target = await this.members.get(scope, id);
    if (!target) throw notFound('member');
    if (target.role === 'owner' || role === 'owner') assertOwner(actor, 'change an owner');
    return memberView(outcome(await this.members.changeRole(scope, id, role)));
  }

  async remove(scope: TenantScope, actor: Actor, id: string): Promise<void> {
    const target = await this.members.get(scope, id);
    if (!target) throw notFound('member');
    if (target.role === 'owner') assertOwner(actor, 'remove an owner');
    outcome(await this.members.remove(scope, id));
  }

  /** Redeems an invitation token: the new member's account and a first session. */
  async accept(token: string, input: { password: string; name?: string }) {
    if (!TOKEN_RE.test(token)) throw notFound('invitation');
    const passwordHash = await this.hasher.hash(input.password);
    let accepted;
    try {
      accepted = await this.invites.accept(hashToken(token), { passwordHash, name: input.name ?? null }, new Date(this.clock.now()));
    } catch (e) {
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') {
        throw new DomainError(ErrorCode.Conflict, 'An account with this email already exists');
      }
      throw e;
    }
    if (!accepted) throw notFound('invitation (unknown, already used or expired)');
    const user = await this.users.findById(accepted.userId);
    const tenant = await this.tenants.findById(accepted.tenantId);
    return {
      token: await this.auth.tokenFor(user!),
      user: { id: accepted.userId, email: accepted.email, name: input.name ?? null, role: accepted.role },
      tenant: { id: accepted.tenantId, name: tenant?.name ?? '' },
    };
  }

  private inviteText(token: string, role: string, tenantName: string | undefined, expiresAt: Date): string {
    const base = (this.config.PUBLIC_BASE_URL ?? `http://localhost:${this.config.PORT}`).replace(/\/+$/, '');
    const url = `${base}/api/invites/${token}/accept`;
    return [
      `You are invited to join ${tenantName ?? 'a team'} as ${role}.`,
      '',
      'Accept by choosing a password:',
      `  curl -X POST ${url} -H 'content-type: application/json' -d '{"password":"<at least 8 characters>","name":"<your name>"}'`,
      '',
      `Invitation token: ${token}`,
      `This invitation expires at ${expiresAt.toISOString()}.`,
    ].join('\n');
  }
}

function assertOwner(actor: Actor, what: string): void {
  if (actor.role !== 'owner') throw new DomainError(ErrorCode.Forbidden, `Only an owner can ${what}`, { param: 'role' });
}

function outcome(r: MemberChange): Member {
  if (r.kind === 'not_found') throw notFound('member');
  if (r.kind === 'last_owner') throw new DomainError(ErrorCode.Conflict, 'A team needs at least one owner', { param: 'role' });
  return r.member;
}

function notFound(what: string): DomainError {
  return new DomainError(ErrorCode.NotFound, `No such ${what}`, { param: 'id' });
}
