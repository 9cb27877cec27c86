import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from './config';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

function nestLevels(level: AppConfig['LOG_LEVEL']): LogLevel[] | false {
  if (level === 'silent') return false;
  const cut = { fatal: 1, error: 2, warn: 3, info: 4, debug: 5, trace: 6 }[level];
  return LEVELS.slice(0, cut);
}

/** Nest's start-up chatter (every module and route) is noise next to the start banner. */
const QUIET_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

class AppLogger extends ConsoleLogger {
  override log(message: unknown, context?: string): void {
    if (context && QUIET_CONTEXTS.has(context)) return;
    super.log(message, context);
  }
}

/** Creates a Nest application on Fastify with the limits every app shares. */
export async function createFastifyApp(module: unknown, config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: true,
    // Headers must arrive promptly (slowloris); bodies and streams are bounded by the gateway's own timeouts.
    requestTimeout: 0,
    keepAliveTimeout: 65_000,
  });
  const levels = nestLevels(config.LOG_LEVEL);
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    logger: levels === false ? false : new AppLogger({ logLevels: levels }),
    bufferLogs: false,
  });
  app.enableShutdownHooks();
  return app;
}
