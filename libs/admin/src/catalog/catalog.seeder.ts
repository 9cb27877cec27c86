import { Injectable } from '@nestjs/common';
import { CatalogRepository } from '@gw/db';
import { InvalidationBus } from '@gw/metering';
import { readCatalogFile } from './catalog-file';

/** Loads prisma/catalog.json into the database at start; operator-edited rows are kept. */
@Injectable()
export class CatalogSeeder {
  constructor(
    private readonly catalog: CatalogRepository,
    private readonly bus: InvalidationBus,
  ) {}

  async seed(path?: string): Promise<number> {
    const written = await this.catalog.seed(readCatalogFile(path));
    await this.bus.publish({ type: 'catalog' });
    return written;
  }
}
