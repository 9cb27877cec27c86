import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@gw/core';
import { NOOP_REQUEST_TRACER, REQUEST_TRACER, type RequestTracer } from './request-tracer';

/** OpenTelemetry traces when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise a no-op, and the SDK is never loaded. */
export function requestTracerFor(config: AppConfig): RequestTracer {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return NOOP_REQUEST_TRACER;
  // Required here, not imported at the top: a gateway without tracing must not pay for the SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const otel = require('./otel-request-tracer') as typeof import('./otel-request-tracer');
  const shown = new URL(endpoint);
  new Logger('tracing').log(`OpenTelemetry traces to ${shown.origin}${shown.pathname} (service ${config.OTEL_SERVICE_NAME}, sampled ${config.OTEL_TRACES_SAMPLE_RATIO})`);
  return otel.createOtelRequestTracer({ endpoint, serviceName: config.OTEL_SERVICE_NAME, sampleRatio: config.OTEL_TRACES_SAMPLE_RATIO });
}

/** Binds REQUEST_TRACER and flushes the spans still buffered when the app closes (after the gateway drained). */
@Module({
  providers: [{ provide: REQUEST_TRACER, inject: [APP_CONFIG], useFactory: requestTracerFor }],
  exports: [REQUEST_TRACER],
})
export class TracingModule implements OnApplicationShutdown {
  constructor(@Inject(REQUEST_TRACER) private readonly tracer: RequestTracer) {}

  async onApplicationShutdown(): Promise<void> {
    await this.tracer.shutdown();
  }
}
