import { Injectable } from '@nestjs/common';
import { newId } from '@gw/core';
import { PrismaService } from '../prisma.service';

@Injectable()
export class UserRepository {
  constructor(private readonly prisma: PrismaService) {}

  findByEmail(email: string) {
    return this.prisma.user.findUnique({ where: { email: email.toLowerCase() } });
  }

  findById(id: string) {
    return this.prisma.user.findUnique({ where: { id } });
  }

  updatePassword(id: string, passwordHash: string) {
    return this.prisma.user.update({ where: { id }, data: { passwordHash } });
  }

  /** Operators belong to no tenant; created only by `npm run operator:create`. */
  async upsertOperator(email: string, passwordHash: string): Promise<string> {
    const existing = await this.findByEmail(email);
    if (existing) {
      await this.prisma.user.update({ where: { id: existing.id }, data: { passwordHash, isOperator: true } });
      return existing.id;
    }
    const id = newId('usr');
    await this.prisma.user.create({ data: { id, email: email.toLowerCase(), passwordHash, isOperator: true, tenantId: null } });
    return id;
  }
}
