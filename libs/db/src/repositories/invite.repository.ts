import { Injectable } from '@nestjs/common';
import { newId } from '@gw/core';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import { afterCursor, NEWEST_FIRST, toPage, type PageRequest } from '../pagination';
import type { UserRole } from '../generated/prisma/enums';

export interface NewInvite {
  email: string;
  role: UserRole;
  /** SHA-256 of the token; the token itself only travels in the email. */
  tokenHash: string;
  invitedBy: string | null;
  expiresAt: Date;
}

export interface AcceptedInvite {
  userId: string;
  tenantId: string;
  email: string;
  role: UserRole;
}

@Injectable()
export class InviteRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** A new invitation; a pending one for the same email in this tenant is replaced (its token dies). */
  async create(scope: TenantScope, input: NewInvite) {
    return this.prisma.$transaction(async (tx) => {
      await tx.invite.deleteMany({ where: { tenantId: scope.tenantId, email: input.email, acceptedAt: null } });
      return tx.invite.create({ data: { id: newId('inv'), tenantId: scope.tenantId, ...input } });
    });
  }

  /** Pending (not accepted) invitations, newest first. */
  async page(scope: TenantScope, req: PageRequest) {
    const rows = await this.prisma.invite.findMany({
      where: { tenantId: scope.tenantId, acceptedAt: null, ...afterCursor(req.cursor) },
      orderBy: NEWEST_FIRST,
      take: req.limit + 1,
    });
    return toPage(rows, req.limit);
  }

  get(scope: TenantScope, id: string) {
    return this.prisma.invite.findFirst({ where: { id, tenantId: scope.tenantId } });
  }

  /** Revokes a pending invitation; accepted ones are history and stay. */
  async deletePending(scope: TenantScope, id: string): Promise<boolean> {
    const r = await this.prisma.invite.deleteMany({ where: { id, tenantId: scope.tenantId, acceptedAt: null } });
    return r.count === 1;
  }

  /**
   * Redeems a token: marks the invitation accepted and creates the member, in one transaction,
   * so a token is used at most once even when two accepts race. Unscoped on purpose: the token
   * (by its hash) is the credential and yields the tenant. Null when unknown, used or expired.
   */
  async accept(tokenHash: string, user: { passwordHash: string; name: string | null }, now: Date): Promise<AcceptedInvite | null> {
    return this.prisma.$transaction(async (tx) => {
      const invite = await tx.invite.findUnique({ where: { tokenHash } });
      if (!invite || invite.acceptedAt || invite.expiresAt <= now) return null;
      const claimed = await tx.invite.updateMany({ where: { id: invite.id, acceptedAt: null }, data: { acceptedAt: now } });
      if (claimed.count !== 1) return null;
      const userId = newId('usr');
      await tx.user.create({
        data: { id: userId, tenantId: invite.tenantId, email: invite.email, passwordHash: user.passwordHash, name: user.name, role: invite.role },
      });
      return { userId, tenantId: invite.tenantId, email: invite.email, role: invite.role };
    });
  }
}
