import { DynamicModule, Module, type OnApplicationShutdown } from '@nestjs/common';

class LocalInfraLifecycle implements OnApplicationShutdown {
  constructor(private readonly stop: () => Promise<void>) {}

  /** After the app drained and closed (SIGTERM): stop the embedded servers this process started. */
  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}

@Module({})
export class LocalInfraModule {
  static forRoot(stop: () => Promise<void>): DynamicModule {
    return { module: LocalInfraModule, providers: [{ provide: LocalInfraLifecycle, useFactory: () => new LocalInfraLifecycle(stop) }] };
  }
}
