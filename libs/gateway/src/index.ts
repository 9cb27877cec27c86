export * from './gateway.module';
export * from './upstream/provider-endpoints';
export * from './http/in-flight';
