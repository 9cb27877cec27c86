import { Module } from '@nestjs/common';
import { CreditStoreModule } from '@gw/metering';
import { PrivacyController } from './privacy.controller';
import { PrivacyService } from './privacy.service';

/** Privacy settings (/api/settings/privacy). */
@Module({ imports: [CreditStoreModule], controllers: [PrivacyController], providers: [PrivacyService] })
export class PrivacyModule {}
