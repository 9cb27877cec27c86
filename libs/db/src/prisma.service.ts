import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { PrismaClient } from './generated/prisma/client';

const CONNECT_TIMEOUT_MS = 10_000;

/** The single Prisma client of a process (libs/db is the only importer of the generated client). */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set');
    // A connect that gets no answer (a host still coming up, a black-holed route) fails after 10 s
    // instead of the OS's minutes: callers retry, and a start-up load does not hang on it.
    super({ adapter: new PrismaPg({ connectionString: config.DATABASE_URL, max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS }) });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
