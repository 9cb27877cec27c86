import { DomainError, ErrorCode } from '@gw/core';
import type { Candidate } from './chat-plan';
import type { AttemptRecord } from './usage-event';

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Routing decisions recorded when one of the tenant's own keys was refused. */
export const FALLBACK_FROM_BYOK = 'fallback_from_byok';
export const NO_FALLBACK_FROM_BYOK = 'own key refused: platform capacity not used (byok_fallback_to_platform is off)';

/**
 * The provider refused the credential itself (revoked, no access, out of credit or quota), not
 * the request. Any 429 counts for the tenant's own key: its limits are the tenant's, and the
 * platform standing in for them is what byok_fallback_to_platform decides. So does a 404 there (a
 * model that key cannot see, a deployment it lacks).
 */
export function credentialRefused(e: DomainError, ownKey: boolean): boolean {
  const s = e.details.upstreamStatus;
  return s === 401 || s === 403 || s === 402 || e.details.meta?.reason === 'insufficient_quota' || (ownKey && (s === 429 || s === 404));
}

/**
 * The provider does not know the model (or the endpoint) at this address: a retry there cannot
 * help, but another provider or key of the model may serve, so the attempts go on.
 */
export function unknownAtProvider(e: DomainError): boolean {
  return e.details.upstreamStatus === 404;
}

/** A refusal of the tenant's own key, told as one (401 for a refused key, the provider's limit otherwise). */
export function ownKeyError(e: DomainError, c: Candidate): DomainError {
  const provider = c.model.provider;
  const meta = { ...e.details.meta, byok: true, credential: c.endpoint.credentialId };
  const s = e.details.upstreamStatus;
  if (s === 401 || s === 403) {
    return new DomainError(ErrorCode.UpstreamAuthError, `${provider} refused your own ${provider} key ${c.endpoint.credentialId} (HTTP ${s}); replace it under /api/provider-keys`, { upstreamStatus: s, meta });
  }
  return new DomainError(e.code, `${e.message} on your own ${provider} key ${c.endpoint.credentialId}`, { ...e.details, meta });
}

/** The tenant's own key whose stored secret the gateway cannot open (a damaged row, a wrong SECRETS_KEY). */
export function unopenableKeyError(c: Candidate): DomainError {
  const provider = c.model.provider;
  return new DomainError(ErrorCode.ServiceUnavailable, `Your own ${provider} key ${c.endpoint.credentialId} cannot be read by the gateway right now; add it again under /api/provider-keys if this persists`, {
    retryAfterSeconds: 30,
    meta: { provider, byok: true, credential: c.endpoint.credentialId, reason: 'credential_unavailable' },
  });
}

/**
 * What the client is told when no attempt served. The tenant's own refused key is reported as
 * such when nothing after it got further (reliability T26); a platform key the provider refused
 * or ran out of is the operator's problem, not the tenant's: 503, with a line for the operator.
 */
export function finalErrorOf(last: unknown, from: Candidate | undefined, refusedOwn: DomainError | undefined): { error: unknown; platformRefusal?: string } {
  if (!(last instanceof DomainError) || !from) return { error: last ?? refusedOwn ?? new DomainError(ErrorCode.NoAvailableProvider, 'No provider could serve the request') };
  const own = from.endpoint.credentialId !== undefined;
  if (!credentialRefused(last, own)) return { error: last };
  if (own || refusedOwn) return { error: refusedOwn ?? last };
  const provider = from.model.provider;
  return {
    error: new DomainError(ErrorCode.NoAvailableProvider, `No provider could serve the request: the platform's ${provider} capacity is unavailable`, {
      retryAfterSeconds: 30,
      upstreamStatus: last.details.upstreamStatus,
      meta: { provider, reason: 'platform_credentials' },
    }),
    platformRefusal: `the platform's ${provider} credentials were refused or are out of quota (HTTP ${last.details.upstreamStatus}): ${last.message}`,
  };
}

/** One attempt as the request log keeps it. */
export function attemptOf(c: Candidate, e: unknown, ms: number, status = 0, startedMs?: number): AttemptRecord {
  const a: AttemptRecord = { model: c.model.id, provider: c.model.provider, status, latency_ms: round(ms) };
  // A 200 can fail too: a stream whose first events were an error, or a cut.
  if (status !== 200 || e !== undefined) a.error = e instanceof DomainError ? e.code : 'internal_error';
  if (startedMs !== undefined) a.started_ms = round(startedMs);
  if (c.endpoint.credentialId) a.byok = true;
  return a;
}

/** Failures before the first byte that another try may fix (429, 5xx, timeouts, connection). */
export function retryable(e: unknown): boolean {
  return e instanceof DomainError && e.details.retryable === true;
}
