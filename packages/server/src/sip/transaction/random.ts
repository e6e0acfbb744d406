/**
 * Random identifiers: branches, tags and Call-IDs must be globally unique and unguessable
 * (RFC 3261 §8.1.1.7, §19.3), so they come from the CSPRNG.
 */
import { randomBytes } from 'node:crypto';
import { BRANCH_MAGIC_COOKIE } from '../message/index.js';

/** A new RFC 3261 branch: magic cookie plus 96 random bits. */
export function newBranch(): string {
  return `${BRANCH_MAGIC_COOKIE}${randomBytes(12).toString('hex')}`;
}

/** A new From/To tag (64 random bits). */
export function newTag(): string {
  return randomBytes(8).toString('hex');
}

/** A new Call-ID (128 random bits, no host part, so nothing about us leaks). */
export function newCallId(): string {
  return randomBytes(16).toString('hex');
}
