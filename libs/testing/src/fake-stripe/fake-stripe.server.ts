import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeForm, type FormObject } from './form';
import type { FakeCharge, FakeCheckoutSession, FakeDispute, FakePaymentIntent, FakeRefund, FakeStripeEvent } from './fake-stripe.objects';
import { FakeStripeState, StripeApiError, type CheckoutOutcome } from './fake-stripe.state';
import { WebhookSender, type DeliveryOptions, type DeliveryRecord } from './fake-stripe.webhooks';

export interface FakeStripeOptions {
  /** The secret key requests must carry; default: any `sk_test_...`. */
  apiKey?: string;
  host?: string;
  port?: number;
}

/** One API request as the fake received it. */
export interface StripeRequestRecord {
  method: string;
  path: string;
  params: FormObject;
  idempotencyKey: string | undefined;
  status: number;
  /** Answered from the idempotency cache. */
  replayed: boolean;
}

interface Saved {
  fingerprint: string;
  status: number;
  body: string;
}

type Route = (params: FormObject, id: string | undefined) => unknown;

/**
 * A fake Stripe API on loopback for tests and local runs: customers, Checkout Sessions, payment
 * intents (confirm + off_session, with declines), refunds and disputes, answering the official
 * SDK (`new Stripe(key, { host, port, protocol: 'http' })`) in Stripe's wire format, honouring
 * `Idempotency-Key` as Stripe does (same key and parameters: the saved answer, even a decline;
 * other parameters: 400 `idempotency_error`; validation errors are not saved), and POSTing the
 * events to a webhook endpoint with a real `Stripe-Signature`, optionally duplicated, reordered,
 * delayed or held back.
 *
 *   const stripe = new FakeStripeServer();
 *   const base = await stripe.start();                  // STRIPE_API_BASE
 *   stripe.setWebhookEndpoint(`${app}/api/billing/webhook`, 'whsec_test');
 *   stripe.completeCheckout(sessionId, 'paid');         // the payer pays; events follow
 *   await stripe.idle();                                // every delivery answered
 */
export class FakeStripeServer {
  readonly state: FakeStripeState;
  readonly webhooks = new WebhookSender();
  readonly requests: StripeRequestRecord[] = [];
  private server: Server | undefined;
  private url: string | undefined;
  private readonly saved = new Map<string, Saved>();
  private failures: { remaining: number; kind: 'error' | 'drop' } = { remaining: 0, kind: 'error' };
  private readonly routes: Record<string, Route>;

  constructor(private readonly options: FakeStripeOptions = {}) {
    this.state = new FakeStripeState((events) => this.webhooks.emit(events), () => this.baseUrl);
    const s = this.state;
    this.routes = {
      'POST /v1/customers': (p) => s.createCustomer(p),
      'GET /v1/customers/:id': (_, id) => s.get('customers', id!),
      'POST /v1/checkout/sessions': (p) => s.createCheckoutSession(p),
      'GET /v1/checkout/sessions/:id': (_, id) => s.get('sessions', id!),
      'POST /v1/payment_intents': (p) => s.createPaymentIntent(p),
      'GET /v1/payment_intents/:id': (_, id) => s.get('paymentIntents', id!),
      'GET /v1/charges/:id': (_, id) => s.get('charges', id!),
      'POST /v1/refunds': (p) => s.createRefund(p),
      'GET /v1/refunds': (q) => ({ object: 'list', data: s.listRefunds(q), has_more: false, url: '/v1/refunds' }),
      'GET /v1/refunds/:id': (_, id) => s.get('refunds', id!),
      'GET /v1/disputes/:id': (_, id) => s.get('disputes', id!),
    };
  }

  async start(): Promise<string> {
    if (this.url) return this.url;
    const server = createServer((req, res) => this.onRequest(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const a = server.address() as AddressInfo;
    this.url = `http://${a.address}:${a.port}`;
    return this.url;
  }

  /** The URL to give STRIPE_API_BASE. */
  get baseUrl(): string {
    if (!this.url) throw new Error('fake Stripe not started');
    return this.url;
  }

  async close(): Promise<void> {
    await this.webhooks.idle();
    const server = this.server;
    this.server = undefined;
    this.url = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- webhooks ----

  setWebhookEndpoint(url: string, secret: string): void {
    this.webhooks.setEndpoint(url, secret);
  }

  /** How the next batches of events are delivered (copies, concurrency, order, delay). */
  setDelivery(options: DeliveryOptions): void {
    this.webhooks.setOptions(options);
  }

  /** Resolves when every delivery started so far has been answered. */
  idle(): Promise<void> {
    return this.webhooks.idle();
  }

  get deliveries(): readonly DeliveryRecord[] {
    return this.webhooks.deliveries;
  }

  get events(): readonly FakeStripeEvent[] {
    return this.state.events;
  }

  eventsOfType(type: string): FakeStripeEvent[] {
    return this.state.events.filter((e) => e.type === type);
  }

  /** Delivers these events again (Stripe's retries, or a replay from the Dashboard). */
  redeliver(events: FakeStripeEvent[], options: DeliveryOptions = {}): void {
    this.webhooks.deliver(events, options);
  }

  // ---- what payers, banks and card holders do ----

  completeCheckout(sessionId: string, outcome: CheckoutOutcome = 'paid', paymentMethod?: string): FakeCheckoutSession {
    return this.state.completeCheckout(sessionId, outcome, paymentMethod);
  }

  settleAsyncPayment(sessionId: string, succeeded: boolean): FakeCheckoutSession {
    return this.state.settleAsyncPayment(sessionId, succeeded);
  }

  /** A refund made in the Dashboard; `amount` in cents, default what is left. */
  refund(paymentIntentId: string, amount?: number): FakeRefund {
    return this.state.createRefund({ payment_intent: paymentIntentId, ...(amount ? { amount: String(amount) } : {}) });
  }

  /** A chargeback; `inquiry`: a dispute inquiry (status warning_needs_response, no funds withdrawn). */
  dispute(paymentIntentId: string, amount?: number, inquiry = false): FakeDispute {
    return this.state.openDispute(paymentIntentId, amount, inquiry);
  }

  closeDispute(disputeId: string, status: 'won' | 'lost' | 'warning_closed'): FakeDispute {
    return this.state.closeDispute(disputeId, status);
  }

  /** A refund that had succeeded fails afterwards (refund.updated + refund.failed). */
  failRefund(refundId: string): FakeRefund {
    return this.state.failRefund(refundId);
  }

  /** The next `n` confirmations stay `processing` (a bank debit), until `settleIntent`. */
  processNext(n: number): void {
    this.state.processNext(n);
  }

  /** A processing payment settles, or fails (payment_intent.succeeded or .payment_failed). */
  settleIntent(paymentIntentId: string, succeeded: boolean): FakePaymentIntent {
    return this.state.settleIntent(paymentIntentId, succeeded);
  }

  /** The next `n` card confirmations are declined (402 card_error); `Infinity` for all. */
  declineNext(n: number, declineCode?: string): void {
    this.state.declineNext(n, declineCode);
  }

  /**
   * The next `n` API requests fail: `error` answers 500 without doing anything; `drop` does the
   * work (and saves the idempotent answer) but closes the connection instead of answering, the
   * ambiguous failure a retry with the same Idempotency-Key must resolve.
   */
  failNext(n: number, kind: 'error' | 'drop' = 'error'): void {
    this.failures = { remaining: n, kind };
  }

  paymentIntents(): FakePaymentIntent[] {
    return [...this.state.paymentIntents.values()];
  }

  charges(): FakeCharge[] {
    return [...this.state.charges.values()];
  }

  // ---- transport ----

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.dispatch(req, Buffer.concat(chunks).toString('utf8'), res);
      } catch (e) {
        send(res, 500, JSON.stringify({ error: { type: 'api_error', message: (e as Error).message } }));
      }
    });
  }

  private dispatch(req: IncomingMessage, raw: string, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/checkout/')) return this.hostedPage(method, url, res);
    const auth = req.headers.authorization ?? '';
    const key = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (this.options.apiKey ? key !== this.options.apiKey : !key.startsWith('sk_test_')) {
      return send(res, 401, JSON.stringify({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided.' } }));
    }
    const params = method === 'GET' ? decodeForm(url.search.slice(1)) : decodeForm(raw);
    const idem = header(req, 'idempotency-key');
    const record: StripeRequestRecord = { method, path: url.pathname, params, idempotencyKey: idem, status: 0, replayed: false };
    this.requests.push(record);
    if (this.failures.remaining > 0 && this.failures.kind === 'error') {
      this.failures.remaining--;
      record.status = 500;
      return send(res, 500, JSON.stringify({ error: { type: 'api_error', message: 'Injected failure.' } }));
    }
    const fingerprint = `${method} ${url.pathname} ${raw}`;
    if (method === 'POST' && idem !== undefined) {
      const hit = this.saved.get(idem);
      if (hit && hit.fingerprint !== fingerprint) {
        record.status = 400;
        const message = `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idem}' if you meant to execute a different request.`;
        return send(res, 400, JSON.stringify({ error: { type: 'idempotency_error', message } }));
      }
      if (hit) {
        record.status = hit.status;
        record.replayed = true;
        return this.answer(res, hit.status, hit.body, { 'idempotent-replayed': 'true' });
      }
    }
    const [status, body] = this.route(method, url.pathname, params);
    record.status = status;
    // Stripe saves every executed result, errors included, but not a request refused by validation.
    if (method === 'POST' && idem !== undefined && status !== 400) this.saved.set(idem, { fingerprint, status, body });
    this.answer(res, status, body, {});
  }

  private route(method: string, path: string, params: FormObject): [number, string] {
    const m = /^(\/v1\/(?:checkout\/)?[a-z_]+)(?:\/([A-Za-z0-9_]+))?$/.exec(path);
    const handler = m ? this.routes[`${method} ${m[1]}${m[2] ? '/:id' : ''}`] : undefined;
    if (!handler) return [404, JSON.stringify({ error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` } })];
    try {
      return [200, JSON.stringify(handler(params, m![2]))];
    } catch (e) {
      if (e instanceof StripeApiError) return [e.status, JSON.stringify(e.body)];
      throw e;
    }
  }

  private answer(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
    if (this.failures.remaining > 0 && this.failures.kind === 'drop') {
      this.failures.remaining--;
      res.socket?.destroy();
      return;
    }
    send(res, status, body, headers);
  }

  /** Stripe's hosted page, reduced to buttons, so a local run can pay without a browser session. */
  private hostedPage(method: string, url: URL, res: ServerResponse): void {
    const [, , id, action] = url.pathname.split('/');
    if (method === 'POST' && (action === 'paid' || action === 'unpaid' || action === 'expired')) {
      try {
        const s = this.completeCheckout(id, action);
        // Stripe fills the template variable of the success URL with the session's id.
        return send(res, 303, '', { location: (s.success_url ?? '/').replace('{CHECKOUT_SESSION_ID}', s.id) }, 'text/plain');
      } catch (e) {
        return send(res, 400, (e as Error).message, {}, 'text/plain');
      }
    }
    const s = this.state.sessions.get(id);
    if (!s) return send(res, 404, 'No such session', {}, 'text/plain');
    const button = (a: string, label: string) => `<form method="post" action="/checkout/${id}/${a}"><button>${label}</button></form>`;
    const html = `<!doctype html><title>Fake Stripe Checkout</title><h1>Pay ${(s.amount_total / 100).toFixed(2)} ${s.currency.toUpperCase()}</h1>${button('paid', 'Pay')}${button('unpaid', 'Pay by bank debit (settles later)')}${button('expired', 'Abandon')}`;
    send(res, 200, html, {}, 'text/html; charset=utf-8');
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'request-id': `req_fake_${Date.now()}`, ...headers });
  res.end(body);
}
