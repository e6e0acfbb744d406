/**
 * SIP transaction layer (RFC 3261 §17 with RFC 6026), on an injectable clock.
 */
export { TransactionManager, type TransactionManagerOptions, type TransactionCounters, type TransactionManagerEvents, type ClientTransaction, type ServerTransaction } from './TransactionManager.js';
export { InviteClientTransaction, type InviteClientState } from './InviteClientTransaction.js';
export { NonInviteClientTransaction, type NonInviteClientState } from './NonInviteClientTransaction.js';
export { InviteServerTransaction, type InviteServerState } from './InviteServerTransaction.js';
export { NonInviteServerTransaction, type NonInviteServerState } from './NonInviteServerTransaction.js';
export { systemClock, type Clock, type ClockTimer } from './Clock.js';
export { FakeClock } from './FakeClock.js';
export { DEFAULT_TIMERS, timerConfig, type TimerConfig } from './TimerConfig.js';
export { buildResponse, toTagOf, type ResponseOptions } from './buildResponse.js';
export { newBranch, newCallId, newTag } from './random.js';
export type { ClientTransactionEvents, ServerTransactionEvents, TransactionStats } from './types.js';
