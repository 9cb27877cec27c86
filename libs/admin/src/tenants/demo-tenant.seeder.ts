import { Inject, Injectable } from '@nestjs/common';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig, usdToMicros } from '@gw/core';
import { UserRepository } from '@gw/db';
import { CreditService } from '@gw/billing';
import { AuthService } from '../auth/auth.service';

export interface DemoTenant {
  tenantId: string;
  email: string;
  password: string;
  apiKey: string;
}

const DEMO_EMAIL = 'demo@gateway.local';

/**
 * The demo tenant `npm start` creates on first start, with DEMO_CREDITS_USD of promotional
 * credit. Its key is shown once by the API, so it is kept in `.data/demo.json` for the banner.
 */
@Injectable()
export class DemoTenantSeeder {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly auth: AuthService,
    private readonly users: UserRepository,
    private readonly credits: CreditService,
  ) {}

  async ensure(dataDir: string): Promise<DemoTenant | undefined> {
    const file = join(dataDir, 'demo.json');
    const existing = await this.users.findByEmail(DEMO_EMAIL);
    if (existing) return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoTenant) : undefined;
    const password = randomBytes(12).toString('base64url');
    const r = await this.auth.signup({ email: DEMO_EMAIL, password, name: 'Demo tenant' });
    await this.credits.post(r.tenant.id, {
      kind: 'promo',
      amountMicros: usdToMicros(this.config.DEMO_CREDITS_USD),
      idempotencyKey: `promo:demo:${r.tenant.id}`,
      description: 'Demo credits',
    });
    const demo: DemoTenant = { tenantId: r.tenant.id, email: DEMO_EMAIL, password, apiKey: r.api_key.key };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
    return demo;
  }
}
