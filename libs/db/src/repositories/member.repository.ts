import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { TenantScope } from '../tenant-scope';
import { afterCursor, NEWEST_FIRST, toPage, type PageRequest } from '../pagination';
import type { Prisma } from '../generated/prisma/client';
import type { UserRole } from '../generated/prisma/enums';

const PUBLIC_FIELDS = { id: true, email: true, name: true, role: true, createdAt: true } as const;

export interface Member {
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  createdAt: Date;
}

export type MemberChange = { kind: 'ok'; member: Member } | { kind: 'not_found' } | { kind: 'last_owner' };

/** The users of a tenant (its team). Never returns password hashes. */
@Injectable()
export class MemberRepository {
  constructor(private readonly prisma: PrismaService) {}

  async page(scope: TenantScope, req: PageRequest) {
    const rows = await this.prisma.user.findMany({
      where: { tenantId: scope.tenantId, ...afterCursor(req.cursor) },
      orderBy: NEWEST_FIRST,
      take: req.limit + 1,
      select: PUBLIC_FIELDS,
    });
    return toPage<Member>(rows, req.limit);
  }

  get(scope: TenantScope, id: string): Promise<Member | null> {
    return this.prisma.user.findFirst({ where: { id, tenantId: scope.tenantId }, select: PUBLIC_FIELDS });
  }

  /** Changes a member's role; refused when it would leave the tenant without an owner. */
  changeRole(scope: TenantScope, id: string, role: UserRole): Promise<MemberChange> {
    return this.withOwnersLocked(scope, id, async (tx, member, owners) => {
      if (member.role === 'owner' && role !== 'owner' && owners <= 1) return { kind: 'last_owner' };
      const updated = await tx.user.update({ where: { id }, data: { role }, select: PUBLIC_FIELDS });
      return { kind: 'ok', member: updated };
    });
  }

  /**
   * Removes a member (the row goes: their sessions stop working at once) and the invitations they
   * sent that are still open (a removed admin must not come back through one); never the last owner.
   */
  remove(scope: TenantScope, id: string): Promise<MemberChange> {
    return this.withOwnersLocked(scope, id, async (tx, member, owners) => {
      if (member.role === 'owner' && owners <= 1) return { kind: 'last_owner' };
      await tx.invite.deleteMany({ where: { tenantId: scope.tenantId, invitedBy: id, acceptedAt: null } });
      await tx.user.delete({ where: { id } });
      return { kind: 'ok', member };
    });
  }

  /**
   * Runs a change with the tenant row locked, so two concurrent changes cannot each see "another
   * owner remains" and together remove the last one.
   */
  private withOwnersLocked(
    scope: TenantScope,
    id: string,
    fn: (tx: Prisma.TransactionClient, member: Member, owners: number) => Promise<MemberChange>,
  ): Promise<MemberChange> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM tenants WHERE id = ${scope.tenantId} FOR UPDATE`;
      const member = await tx.user.findFirst({ where: { id, tenantId: scope.tenantId }, select: PUBLIC_FIELDS });
      if (!member) return { kind: 'not_found' };
      const owners = await tx.user.count({ where: { tenantId: scope.tenantId, role: 'owner' } });
      return fn(tx, member, owners);
    });
  }
}
