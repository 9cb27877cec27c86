import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { ProviderRegistry, builtInAdapters } from '@gw/llm';
import { CreditStoreModule, percentToBps } from '@gw/metering';
import { BillingCoreModule } from '@gw/billing';
import { TracingModule } from '@gw/observability';
import { KeyCache } from './auth/key-cache';
import { CatalogCache } from './catalog/catalog-cache';
import { ProviderEndpoints } from './upstream/provider-endpoints';
import { UpstreamClient } from './upstream/upstream.client';
import { Reservations } from './chat/reservation';
import { Settlement } from './chat/settlement';
import { Charges } from './chat/charges';
import { StreamRelay } from './chat/stream-relay';
import { UsageJournal } from './chat/usage-journal';
import { UsageEstimator } from './chat/usage-estimator';
import { ChatCompletionsService } from './chat/chat-completions.service';
import { EmbeddingsService } from './chat/embeddings.service';
import { AccountHandlers } from './account/account.handlers';
import { InFlight } from './http/in-flight';
import { GatewayRoutes } from './http/gateway.routes';
import { TenantContextCache } from './tenant/tenant-context.cache';
import { RoutePlanner } from './routing/route-planner.service';
import { ProviderHealth } from './routing/provider-health.service';
import { PlatformCapGate } from './routing/platform-cap-gate';
import { GatewayMetrics } from './metrics/gateway-metrics';

/** The data plane (/v1/*). Needs CoreModule, DbModule and RedisModule from the composition root. */
@Module({
  imports: [CreditStoreModule, BillingCoreModule, TracingModule],
  providers: [
    { provide: ProviderRegistry, inject: [APP_CONFIG], useFactory: (c: AppConfig) => new ProviderRegistry(builtInAdapters({ azure: { apiVersion: c.AZURE_API_VERSION } })) },
    KeyCache,
    TenantContextCache,
    RoutePlanner,
    ProviderHealth,
    PlatformCapGate,
    GatewayMetrics,
    CatalogCache,
    ProviderEndpoints,
    UpstreamClient,
    Reservations,
    // One set of rates (markup, BYOK fee) for what is charged and the rate card that records it.
    { provide: Charges, inject: [APP_CONFIG], useFactory: (c: AppConfig) => new Charges(percentToBps(c.PLATFORM_MARKUP_PERCENT), percentToBps(c.BYOK_FEE_PERCENT)) },
    Settlement,
    UsageJournal,
    UsageEstimator,
    StreamRelay,
    ChatCompletionsService,
    EmbeddingsService,
    AccountHandlers,
    InFlight,
    GatewayRoutes,
  ],
  exports: [ProviderRegistry, CatalogCache],
})
export class GatewayModule {}
