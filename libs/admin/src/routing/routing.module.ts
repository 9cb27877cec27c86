import { Module } from '@nestjs/common';
import { ProviderRegistry } from '@gw/llm';
import { CreditStoreModule } from '@gw/metering';
import { RoutingController } from './routing.controller';
import { RoutingService } from './routing.service';

@Module({
  imports: [CreditStoreModule],
  controllers: [RoutingController],
  providers: [RoutingService, { provide: ProviderRegistry, useFactory: () => new ProviderRegistry() }],
})
export class RoutingModule {}
