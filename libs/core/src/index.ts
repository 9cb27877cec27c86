export * from './errors';
export * from './http-errors';
export * from './money';
export * from './ids';
export * from './config';
export * from './config.module';
export * from './clock';
export * from './usage';
