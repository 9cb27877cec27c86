import { Module } from '@nestjs/common';
import { ProviderRegistry } from '@gw/llm';
import { CreditStoreModule } from '@gw/metering';
import { ProviderKeysController } from './provider-keys.controller';
import { ProviderKeysService } from './provider-keys.service';
import { ProviderVerifier } from './provider-verifier';

/** BYOK provider credentials (/api/provider-keys). */
@Module({
  imports: [CreditStoreModule],
  controllers: [ProviderKeysController],
  providers: [{ provide: ProviderRegistry, useFactory: () => new ProviderRegistry() }, ProviderVerifier, ProviderKeysService],
})
export class ProviderKeysModule {}
