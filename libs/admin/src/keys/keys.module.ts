import { Module } from '@nestjs/common';
import { CreditStoreModule } from '@gw/metering';
import { ApiKeyService } from './api-key.service';
import { KeyStatusStore } from './key-status.store';
import { KeysController } from './keys.controller';

/** Tenant API keys (/api/keys). ApiKeyService is exported for sign-up and the demo tenant. */
@Module({
  imports: [CreditStoreModule],
  controllers: [KeysController],
  providers: [ApiKeyService, KeyStatusStore],
  exports: [ApiKeyService],
})
export class KeysModule {}
