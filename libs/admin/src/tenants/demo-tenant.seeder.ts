import { Inject, Injectable } from '@nestjs/common';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig, DomainError, ErrorCode, usdToMicros } from '@gw/core';
import { UserRepository, tenantScope } from '@gw/db';
import { CreditService } from '@gw/billing';
import { AuthService } from '../auth/auth.service';
import { PasswordHasher } from '../auth/password-hasher';
import { ApiKeyService } from '../keys/api-key.service';

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
    private readonly hasher: PasswordHasher,
    private readonly apiKeys: ApiKeyService,
  ) {}

  async ensure(dataDir: string): Promise<DemoTenant | undefined> {
    const file = join(dataDir, 'demo.json');
    const existing = await this.users.findByEmail(DEMO_EMAIL);
    const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoTenant) : undefined;
    let demo: DemoTenant;
    if (existing?.tenantId && saved?.tenantId === existing.tenantId) {
      demo = saved;
    } else if (existing?.tenantId) {
      // A first start killed between sign-up and writing the file: the key was never seen, so
      // issue a new key and password rather than leave a demo nobody can use.
      const password = randomBytes(12).toString('base64url');
      await this.users.updatePassword(existing.id, await this.hasher.hash(password));
      const key = await this.apiKeys.create(tenantScope(existing.tenantId), { name: 'demo', kind: 'inference' });
      demo = { tenantId: existing.tenantId, email: DEMO_EMAIL, password, apiKey: key.key };
    } else {
      const password = randomBytes(12).toString('base64url');
      const r = await this.auth.signup({ email: DEMO_EMAIL, password, name: 'Demo tenant' });
      demo = { tenantId: r.tenant.id, email: DEMO_EMAIL, password, apiKey: r.api_key.key };
    }
    // Idempotent: granted once per tenant even when a start is interrupted and repeated.
    await this.credits.post(demo.tenantId, {
      kind: 'promo',
      amountMicros: usdToMicros(this.config.DEMO_CREDITS_USD),
      idempotencyKey: `promo:demo:${demo.tenantId}`,
      description: 'Demo credits',
    }).catch((e: unknown) => {
      // DEMO_CREDITS_USD changed since the grant: the first grant stands.
      if (!(e instanceof DomainError && e.code === ErrorCode.IdempotencyKeyReused)) throw e;
    });
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
    return demo;
  }
}
