import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from './config';
import { Clock } from './clock';
import { ReadinessGates } from './readiness';
import { SECRET_BOX_PROVIDER, SecretBox } from './secret-box';

@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CoreModule,
      // One SecretBox per process (its development-key warning is said once).
      providers: [{ provide: APP_CONFIG, useValue: config }, Clock, SECRET_BOX_PROVIDER, ReadinessGates],
      exports: [APP_CONFIG, Clock, SecretBox, ReadinessGates],
    };
  }
}
