import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from './config';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

function nestLevels(level: AppConfig['LOG_LEVEL']): LogLevel[] | false {
  if (level === 'silent') return false;
  const cut = { fatal: 1, error: 2, warn: 3, info: 4, debug: 5, trace: 6 }[level];
  return LEVELS.slice(0, cut);
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
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    logger: nestLevels(config.LOG_LEVEL),
    bufferLogs: false,
  });
  app.enableShutdownHooks();
  return app;
}
