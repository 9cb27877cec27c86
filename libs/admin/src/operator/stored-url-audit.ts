import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, urlPolicyProblem } from '@gw/core';
import { AlertRuleRepository, ProviderCredentialRepository } from '@gw/db';

const PAGE = 500;
/** At most this many offenders are named in the log line (all are counted). */
const NAMED = 20;

export interface StoredUrlProblem {
  kind: 'provider_key' | 'alert_webhook';
  id: string;
  tenantId: string;
  problem: string;
}

/**
 * The URL policy (PROVIDER_URL_HTTPS_ONLY, PROVIDER_URL_PORTS) applies when a URL is written; URLs
 * stored before it was set keep working until changed. At start the admin app lists them, by id
 * (never the URL: a query string may carry a token), so an operator knows what still reaches
 * plain http or other ports.
 */
@Injectable()
export class StoredUrlAudit implements OnApplicationBootstrap {
  private readonly logger = new Logger('url-policy');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly credentials: ProviderCredentialRepository,
    private readonly alerts: AlertRuleRepository,
  ) {}

  onApplicationBootstrap(): void {
    const { httpsOnly, ports } = this.config.urlPolicy;
    if (!httpsOnly && !ports) return;
    // Off the start-up path: a slow or absent Postgres must not hold the app.
    void this.audit().then(
      (found) => this.report(found),
      (e: unknown) => this.logger.warn(`could not check stored URLs against the URL policy: ${(e as Error).message}`),
    );
  }

  /** Every stored BYOK base URL and alert webhook that breaks the policy. */
  async audit(): Promise<StoredUrlProblem[]> {
    const out: StoredUrlProblem[] = [];
    const sources = [
      ['provider_key', (after: string | null) => this.credentials.pageStoredUrls(after, PAGE)],
      ['alert_webhook', (after: string | null) => this.alerts.pageStoredUrls(after, PAGE)],
    ] as const;
    for (const [kind, page] of sources) {
      let after: string | null = null;
      for (;;) {
        const rows: { id: string; tenantId: string; url: string }[] = await page(after);
        for (const r of rows) {
          const problem = problemOf(r.url, this.config.urlPolicy);
          if (problem) out.push({ kind, id: r.id, tenantId: r.tenantId, problem });
        }
        if (rows.length < PAGE) break;
        after = rows[rows.length - 1].id;
      }
    }
    return out;
  }

  private report(found: StoredUrlProblem[]): void {
    if (found.length === 0) return;
    const named = found.slice(0, NAMED).map((f) => `${f.kind} ${f.id} (tenant ${f.tenantId}): ${f.problem}`);
    const more = found.length > NAMED ? `; and ${found.length - NAMED} more` : '';
    this.logger.warn(`${found.length} stored URL(s) written before the URL policy break it and keep working until changed: ${named.join('; ')}${more}`);
  }
}

function problemOf(url: string, policy: AppConfig['urlPolicy']): string | null {
  try {
    return urlPolicyProblem(new URL(url), policy);
  } catch {
    return 'is not a URL';
  }
}
