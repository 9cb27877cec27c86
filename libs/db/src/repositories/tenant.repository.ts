import { Injectable } from '@nestjs/common';
import { newId } from '@gw/core';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma.service';
import type { UserRole } from '../generated/prisma/enums';
import { afterCursor, NEWEST_FIRST, toPage, type PageRequest } from '../pagination';

export interface NewTenantOwner {
  email: string;
  passwordHash: string;
  name?: string;
  tenantName: string;
}

@Injectable()
export class TenantRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Creates a tenant and its owner in one transaction. */
  async createWithOwner(input: NewTenantOwner): Promise<{ tenantId: string; userId: string; role: UserRole }> {
    const tenantId = newId('ten');
    const userId = newId('usr');
    await this.prisma.$transaction([
      this.prisma.tenant.create({ data: { id: tenantId, name: input.tenantName } }),
      this.prisma.user.create({
        data: { id: userId, tenantId, email: input.email, passwordHash: input.passwordHash, name: input.name, role: 'owner' },
      }),
    ]);
    return { tenantId, userId, role: 'owner' };
  }

  findById(id: string) {
    return this.prisma.tenant.findUnique({ where: { id } });
  }

  /** Operators only: every tenant, newest first, with its team and key counts. */
  async pageAll(req: PageRequest) {
    const rows = await this.prisma.tenant.findMany({
      where: afterCursor(req.cursor),
      orderBy: NEWEST_FIRST,
      take: req.limit + 1,
      include: { _count: { select: { users: true, apiKeys: true, credentials: true } } },
    });
    return toPage(rows, req.limit);
  }

  /** Operators only: this tenant's caps on the platform's provider credentials (null: platform default). */
  async setPlatformCaps(id: string, caps: Prisma.InputJsonValue | null): Promise<boolean> {
    const { count } = await this.prisma.tenant.updateMany({ where: { id }, data: { platformCaps: caps ?? Prisma.DbNull } });
    return count === 1;
  }

  async exists(id: string): Promise<boolean> {
    return (await this.prisma.tenant.count({ where: { id } })) > 0;
  }
}
