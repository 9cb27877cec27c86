export * from './admin.module';
export * from './auth/auth.service';
export * from './auth/password-hasher';
export * from './keys/api-key.service';
export * from './catalog/catalog.seeder';
export * from './catalog/catalog-file';
export * from './tenants/demo-tenant.seeder';
