/** Replay: recorded decisions asked again of a candidate bundle, and what would change. */
export {
  ReplayService,
  defaultReplayLimit,
  defaultSampleCount,
  maxReplayLimit,
  maxSampleCount,
  type ReplayReport,
  type ReplayRequest,
  type ReplaySample,
} from './service';
export { classifyChange, flipKinds, type FlipKind, type ReplayOutcome } from './compare';
