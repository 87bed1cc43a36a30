// What the appliances saw around a cut-over: from the poll records and the
// moment of the switch, when the new server first answered, how long no one
// answered, and how many polls failed on the way.
import { isAnswered, type PollRecord } from './poller.js';

export interface SwitchView {
  /** When the switch was made (epoch ms). */
  at: number;
  from: string;
  to: string;
  /** First poll answered by `to` that was sent after the switch: its answer time − at. */
  firstAnswerAfterMs: number | null;
  /** Longest stretch with no answered poll around the switch, ms (answer times). */
  gapMs: number;
  /** Polls sent between the last `from` answer and the first `to` answer that failed. */
  failed: number;
  /** Polls sent after the switch that `from` still answered (in-flight or pinned). */
  lateFromAnswers: number;
}

const answerTime = (r: PollRecord) => r.t + r.latencyMs;

export function analyseSwitch(records: readonly PollRecord[], at: number, from: string, to: string): SwitchView {
  const sorted = [...records].sort((a, b) => a.t - b.t);
  const firstTo = sorted.find((r) => r.t >= at && isAnswered(r) && r.server === to);
  const end = firstTo ? answerTime(firstTo) : Infinity;
  const lastFrom = sorted.filter((r) => isAnswered(r) && r.server === from && answerTime(r) <= end).at(-1);
  const start = lastFrom ? answerTime(lastFrom) : at;
  // The gap: the longest time without any answer in the window around the switch.
  const answers = sorted.filter((r) => isAnswered(r)).map(answerTime).filter((t) => t >= start && t <= (firstTo ? end : Number.MAX_SAFE_INTEGER)).sort((a, b) => a - b);
  let gapMs = 0;
  for (let i = 1; i < answers.length; i++) gapMs = Math.max(gapMs, answers[i]! - answers[i - 1]!);
  return {
    at,
    from,
    to,
    firstAnswerAfterMs: firstTo ? answerTime(firstTo) - at : null,
    gapMs: firstTo ? gapMs : Infinity,
    failed: sorted.filter((r) => !isAnswered(r) && r.t >= (lastFrom?.t ?? at) && r.t <= (firstTo?.t ?? Infinity)).length,
    lateFromAnswers: sorted.filter((r) => r.t >= at && isAnswered(r) && r.server === from).length,
  };
}
