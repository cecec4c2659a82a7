// Single-use links: sign-up and email confirmation, password reset,
// invitation. A link carries 256 random bits; only an HMAC of them under a
// server key is stored, so a copy of the database opens nothing. A link is
// used with one conditional update (`used_at IS NULL AND expires_at > now`):
// of two requests racing with the same link exactly one wins.
import { createHmac, randomBytes } from 'node:crypto';
import type { Db } from '../../db/database.ts';

export type LinkPurpose = 'signup' | 'verify' | 'reset' | 'invite';

export interface LinkRecord {
  purpose: LinkPurpose;
  email: string;
  userId: string | null;
  data: Record<string, unknown>;
  expiresAt: Date;
}

/** Why a link cannot be used; the pages say it in words. */
export type LinkRefusal = 'invalid' | 'expired' | 'used';

export type LinkLookup = { ok: true; link: LinkRecord } | { ok: false; reason: LinkRefusal };

// Tokens are base64url of 32 bytes; anything else is refused before a lookup.
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function createLinkTokenService(db: Db, hmacKey: Buffer) {
  const idOf = (token: string) => createHmac('sha256', hmacKey).update(`link:${token}`).digest('base64url');

  async function lookup(token: string, purposes: LinkPurpose[], now: Date): Promise<LinkLookup> {
    if (!TOKEN.test(token)) return { ok: false, reason: 'invalid' };
    const row = await db.linkToken.findUnique({ where: { id: idOf(token) } });
    const purpose = row?.purpose as LinkPurpose | undefined;
    if (!row || !purpose || !purposes.includes(purpose)) return { ok: false, reason: 'invalid' };
    if (row.usedAt) return { ok: false, reason: 'used' };
    if (row.expiresAt <= now) return { ok: false, reason: 'expired' };
    return {
      ok: true,
      link: {
        purpose,
        email: row.email,
        userId: row.userId,
        data: row.data ? (JSON.parse(row.data) as Record<string, unknown>) : {},
        expiresAt: row.expiresAt,
      },
    };
  }

  return {
    /** A new link's token (shown or mailed once, never stored). */
    async create(purpose: LinkPurpose, what: { email: string; userId?: string; data?: Record<string, unknown> }, ttlSeconds: number): Promise<string> {
      const token = randomBytes(32).toString('base64url');
      await db.linkToken.create({
        data: {
          id: idOf(token),
          purpose,
          email: what.email,
          userId: what.userId ?? null,
          data: what.data ? JSON.stringify(what.data) : null,
          expiresAt: new Date(Date.now() + ttlSeconds * 1000),
        },
      });
      return token;
    },

    /** What a link is for, without using it (to show its page). */
    peek(token: string, purpose: LinkPurpose | LinkPurpose[], now = new Date()): Promise<LinkLookup> {
      return lookup(token, ([] as LinkPurpose[]).concat(purpose), now);
    },

    /** Uses a link: exactly one caller gets it, however many race. */
    async consume(token: string, purpose: LinkPurpose | LinkPurpose[], now = new Date()): Promise<LinkLookup> {
      const found = await lookup(token, ([] as LinkPurpose[]).concat(purpose), now);
      if (!found.ok) return found;
      const { count } = await db.linkToken.updateMany({
        where: { id: idOf(token), usedAt: null, expiresAt: { gt: now } },
        data: { usedAt: now },
      });
      return count === 1 ? found : { ok: false, reason: 'used' };
    },

    /** Links of a person that must stop working (their password was reset). */
    async revokeFor(userId: string, purpose: LinkPurpose): Promise<void> {
      await db.linkToken.updateMany({ where: { userId, purpose, usedAt: null }, data: { usedAt: new Date() } });
    },
  };
}

export type LinkTokenService = ReturnType<typeof createLinkTokenService>;
