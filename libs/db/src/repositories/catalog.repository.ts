import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma.service';
import { decodeIdCursor, encodeIdCursor, pageOf, type Page, type PageRequest } from '../pagination';

export interface CatalogSeedRow {
  id: string;
  provider: string;
  upstreamId: string;
  canonicalId: string | null;
  name: string;
  contextLength: number;
  maxOutputTokens: number;
  inputPrice: bigint;
  outputPrice: bigint;
  cacheReadPrice: bigint | null;
  cacheWritePrice: bigint | null;
  cacheWrite1hPrice: bigint | null;
  capabilities: string[];
  source: string | null;
  asOf: Date | null;
  verified: boolean;
}

@Injectable()
export class CatalogRepository {
  constructor(private readonly prisma: PrismaService) {}

  listEnabled() {
    return this.prisma.catalogModel.findMany({ where: { enabled: true }, orderBy: { id: 'asc' } });
  }

  /** A page of the catalog in id order; disabled models only when asked (operators). */
  async page(req: PageRequest, includeDisabled: boolean): Promise<Page<Awaited<ReturnType<CatalogRepository['listAll']>>[number]>> {
    const after = req.cursor === undefined ? undefined : decodeIdCursor(req.cursor);
    const rows = await this.prisma.catalogModel.findMany({
      where: { ...(includeDisabled ? {} : { enabled: true }), ...(after === undefined ? {} : { id: { gt: after } }) },
      orderBy: { id: 'asc' },
      take: req.limit + 1,
    });
    return pageOf(rows, req.limit, (last) => encodeIdCursor(last.id));
  }

  findById(id: string) {
    return this.prisma.catalogModel.findUnique({ where: { id } });
  }

  listAll() {
    return this.prisma.catalogModel.findMany({ orderBy: { id: 'asc' } });
  }

  /** Loads seed rows; rows an operator edited are left as they are. Returns rows written. */
  async seed(rows: CatalogSeedRow[]): Promise<number> {
    const edited = new Set(
      (await this.prisma.catalogModel.findMany({ where: { operatorEdited: true }, select: { id: true } })).map((r) => r.id),
    );
    let written = 0;
    for (const row of rows) {
      if (edited.has(row.id)) continue;
      await this.prisma.catalogModel.upsert({ where: { id: row.id }, create: row, update: row });
      written++;
    }
    return written;
  }

  /** An operator edit: marks the row so re-seeding never overwrites it. */
  update(id: string, data: Partial<Omit<CatalogSeedRow, 'id'>> & { enabled?: boolean }) {
    return this.prisma.catalogModel.update({ where: { id }, data: { ...data, operatorEdited: true } });
  }

  create(row: CatalogSeedRow & { enabled?: boolean }) {
    return this.prisma.catalogModel.create({ data: { ...row, operatorEdited: true } });
  }
}
