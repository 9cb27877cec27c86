/**
 * A fake Stripe for local runs: `node libs/testing/dist/fake-stripe/fake-stripe.cli.js` (after
 * `npm run build`), then start the gateway with the STRIPE_* lines it prints. Checkout URLs open
 * a page with Pay / Pay by bank debit / Abandon buttons; events are POSTed to the webhook URL.
 *
 *   FAKE_STRIPE_PORT          default 12111
 *   FAKE_STRIPE_WEBHOOK_URL   default http://127.0.0.1:8080/api/billing/webhook
 *   STRIPE_WEBHOOK_SECRET     default whsec_local_fake
 */
import { FakeStripeServer } from './fake-stripe.server';

async function main(): Promise<void> {
  const env = process.env;
  const secret = env.STRIPE_WEBHOOK_SECRET || 'whsec_local_fake';
  const server = new FakeStripeServer({ port: Number(env.FAKE_STRIPE_PORT || 12111) });
  const base = await server.start();
  const hook = env.FAKE_STRIPE_WEBHOOK_URL || 'http://127.0.0.1:8080/api/billing/webhook';
  server.setWebhookEndpoint(hook, secret);
  console.log(`fake Stripe on ${base}, webhooks to ${hook}\n\nSTRIPE_API_BASE=${base}\nSTRIPE_SECRET_KEY=sk_test_local\nSTRIPE_WEBHOOK_SECRET=${secret}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
