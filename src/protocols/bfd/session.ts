// One BFD session (RFC 5880, asynchronous mode): the state machine, timer
// negotiation, Poll/Final and jitter — and no I/O. The clock, the two timers,
// the transmitter and the change listener are injected (SessionEnv), so unit
// tests drive a session with a fake clock and the daemon with real timers.
//
// Times are ms on the env's clock (monotonic, may be fractional); intervals
// are µs as on the wire.
import { BfdFlag, BfdStateCode as S, Diag, writeBfdControl, type BfdControlView } from '../../wire/bfd.js';

/** §6.8.3: while not Up, the desired TX interval is at least one second. */
export const IDLE_TX_US = 1_000_000;

/** A one-shot timer; arming it again replaces the pending shot. */
export interface SessionTimer {
  /** Fire at absolute time `at` (ms on the env's clock). */
  arm(at: number): void;
  disarm(): void;
}

export interface SessionEnv {
  /** Monotonic time, ms. */
  now(): number;
  /** Uniform in [0, 1), for jitter. */
  random(): number;
  /** Make a timer that calls `fire` (the session makes two: transmit and detection). */
  timer(fire: () => void): SessionTimer;
  /** Transmit a Control packet now: its bytes are what writeControl(…, final) writes. */
  send(final: boolean): void;
  /** The session changed state; `diag` is the local diagnostic (RFC 5880 §4.1). */
  changed(from: number, to: number, diag: number): void;
}

export interface SessionParams {
  /** Non-zero, unique among the system's sessions (§6.8.1 bfd.LocalDiscr). */
  localDiscriminator: number;
  /** µs, used once Up. */
  desiredMinTxUs: number;
  /** µs */
  requiredMinRxUs: number;
  detectMult: number;
  /** Start in AdminDown (e.g. the port is blocked), silently. */
  adminDown?: boolean;
}

export class BfdSession {
  readonly localDiscriminator: number;
  /** §6.8.1 bfd.SessionState, a BfdStateCode. */
  state: number = S.DOWN;
  /** §6.8.1 bfd.LocalDiag: why the state last changed. */
  localDiag: number = Diag.NONE;
  detectMult: number;

  remoteDiscriminator = 0;
  remoteState: number = S.DOWN;
  remoteDiag: number = Diag.NONE;
  remoteDemand = false;
  /** µs; §6.8.1 initialises it to 1. 0 = the peer wants no periodic packets. */
  remoteMinRxUs = 1;
  remoteDesiredMinTxUs = 0;
  /** 0 until heard from (and again after a detection timeout): no detection runs. */
  remoteDetectMult = 0;

  /** What we advertise (§6.8.1 bfd.DesiredMinTxInterval, bfd.RequiredMinRxInterval), µs. */
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  /** A Poll Sequence is being transmitted (§6.5). */
  pollActive = false;

  /** When the session last went Up (ms), or null when it is not Up. */
  upSince: number | null = null;
  /** When the last accepted packet arrived (ms). */
  lastRxAt = -Infinity;
  /** When the next periodic packet is due (ms), NaN when none is scheduled. */
  nextTxAt = NaN;

  private configTxUs: number;
  private configRxUs: number;
  /** §6.8.3: the desired TX interval the actual TX interval uses (an increase waits for the Poll Sequence). */
  private txBasisUs: number;
  /** §6.8.3: the required RX interval the detection time uses (a decrease waits for the Poll Sequence). */
  private rxBasisUs: number;
  /** Parameters changed during a Poll Sequence: poll again when it ends (§6.5). */
  private pollAgain = false;
  private running = false;
  private detectArmedAt = NaN;
  private readonly txTimer: SessionTimer;
  private readonly detectTimer: SessionTimer;

  constructor(params: SessionParams, private readonly env: SessionEnv) {
    this.localDiscriminator = params.localDiscriminator >>> 0;
    this.configTxUs = params.desiredMinTxUs;
    this.configRxUs = params.requiredMinRxUs;
    this.detectMult = params.detectMult;
    this.desiredMinTxUs = this.txBasisUs = Math.max(IDLE_TX_US, params.desiredMinTxUs);
    this.requiredMinRxUs = this.rxBasisUs = params.requiredMinRxUs;
    if (params.adminDown) {
      this.state = S.ADMIN_DOWN;
      this.localDiag = Diag.ADMINISTRATIVELY_DOWN;
    }
    this.txTimer = env.timer(() => this.onTxTimer());
    this.detectTimer = env.timer(() => this.onDetectTimer());
  }

  /** The interval between our periodic packets (§6.8.7), µs. */
  get txIntervalUs(): number {
    return Math.max(this.txBasisUs, this.remoteMinRxUs);
  }

  /** The interval we expect the peer's packets at, µs. */
  get rxIntervalUs(): number {
    return Math.max(this.rxBasisUs, this.remoteDesiredMinTxUs);
  }

  /** §6.8.4 (asynchronous mode): the peer's Detect Mult × the agreed RX interval, µs; 0 before we heard from the peer. */
  get detectionTimeUs(): number {
    return this.remoteDetectMult * this.rxIntervalUs;
  }

  /** Between start() and stop(). */
  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // The first packet goes out on the next turn of the clock, not from inside the caller.
    if (this.state !== S.ADMIN_DOWN) this.armTx(this.env.now());
  }

  stop(): void {
    this.running = false;
    this.txTimer.disarm();
    this.detectTimer.disarm();
    this.nextTxAt = NaN;
    this.detectArmedAt = NaN;
  }

  /** Change our timing parameters at run time; a Poll Sequence tells the peer (§6.8.3). */
  setParameters(desiredMinTxUs: number, requiredMinRxUs: number, detectMult: number): void {
    this.configTxUs = desiredMinTxUs;
    this.configRxUs = requiredMinRxUs;
    this.detectMult = detectMult;
    if (this.state === S.ADMIN_DOWN) {
      this.desiredMinTxUs = this.txBasisUs = Math.max(IDLE_TX_US, desiredMinTxUs);
      this.requiredMinRxUs = this.rxBasisUs = requiredMinRxUs;
      return;
    }
    const tx = this.state === S.UP ? desiredMinTxUs : Math.max(IDLE_TX_US, desiredMinTxUs);
    if (this.advertise(tx, requiredMinRxUs)) this.startPoll();
  }

  /**
   * §6.8.16: take the session administratively down. One AdminDown packet
   * with `diag` goes out now (when running); then the session is silent.
   */
  adminDown(diag: number = Diag.ADMINISTRATIVELY_DOWN): void {
    if (this.state === S.ADMIN_DOWN) return;
    const from = this.state;
    this.state = S.ADMIN_DOWN;
    this.localDiag = diag;
    this.upSince = null;
    this.endPoll();
    this.advertise(Math.max(IDLE_TX_US, this.configTxUs), this.configRxUs);
    this.txTimer.disarm();
    this.detectTimer.disarm();
    this.nextTxAt = NaN;
    this.detectArmedAt = NaN;
    if (this.running) this.env.send(false);
    this.env.changed(from, S.ADMIN_DOWN, diag);
  }

  /** Leave AdminDown: the session starts again from Down, knowing nothing of the peer. */
  adminUp(): void {
    if (this.state !== S.ADMIN_DOWN) return;
    this.state = S.DOWN;
    this.localDiag = Diag.NONE;
    this.forgetPeer();
    this.remoteMinRxUs = 1;
    this.remoteDesiredMinTxUs = 0;
    this.lastRxAt = -Infinity;
    if (this.running) this.transmit(false);
    this.env.changed(S.ADMIN_DOWN, S.DOWN, Diag.NONE);
  }

  /**
   * A Control packet for this session, already checked with validate() and
   * matched to the session (§6.8.6). The view is only read during the call.
   * Returns false when the session discards it (we are AdminDown).
   */
  receive(v: BfdControlView): boolean {
    if (this.state === S.ADMIN_DOWN) return false;
    const txBefore = this.txIntervalUs;
    this.remoteDiscriminator = v.myDiscriminator;
    this.remoteState = v.state;
    this.remoteDiag = v.diag;
    this.remoteDemand = v.demand;
    this.remoteMinRxUs = v.requiredMinRx;
    this.remoteDesiredMinTxUs = v.desiredMinTx;
    this.remoteDetectMult = v.detectMult;
    this.lastRxAt = this.env.now();
    if (v.final && this.pollActive) this.pollCompleted();
    if (this.running) this.armDetect();

    const from = this.state;
    const remote = v.state;
    if (remote === S.ADMIN_DOWN) {
      if (from !== S.DOWN) this.goDown(Diag.NEIGHBOR_SIGNALED_SESSION_DOWN);
    } else if (from === S.DOWN) {
      if (remote === S.DOWN) this.goInit();
      else if (remote === S.INIT) this.goUp();
    } else if (from === S.INIT) {
      if (remote === S.INIT || remote === S.UP) this.goUp();
    } else if (remote === S.DOWN) {
      this.goDown(Diag.NEIGHBOR_SIGNALED_SESSION_DOWN);
    }

    if (this.running) {
      // §6.8.7: a Poll is answered with a Final at once; a state change is
      // told at once too (faster convergence, one packet per packet received).
      if (v.poll) this.transmit(true);
      else if (this.state !== from) this.transmit(false);
      // RFC 5880 §6.8.7: the TX interval changed (the peer's Required Min
      // RX, e.g. FRR polling down from 1 s to 100 ms): re-arm now, or the
      // next packet comes a whole old interval late and the peer times out.
      else if (this.txIntervalUs !== txBefore) this.rescheduleTx();
    }
    if (this.state !== from) this.env.changed(from, this.state, this.localDiag);
    return true;
  }

  /** The Control packet we send now (§6.8.7). Returns its length, 24. */
  writeControl(buf: Uint8Array, off: number, final: boolean): number {
    // A packet never carries both P and F (§6.8.7); the Poll resumes on the next one.
    const flags = final ? BfdFlag.FINAL : this.pollActive ? BfdFlag.POLL : 0;
    return writeBfdControl(buf, off, this.state, this.localDiag, flags, this.detectMult,
      this.localDiscriminator, this.remoteDiscriminator, this.desiredMinTxUs, this.requiredMinRxUs, 0);
  }

  private goInit(): void {
    this.state = S.INIT;
    this.localDiag = Diag.NONE;
  }

  private goUp(): void {
    this.state = S.UP;
    this.localDiag = Diag.NONE;
    this.upSince = this.env.now();
    // §6.8.3: now Up, the configured (faster) TX interval applies; the peer learns it by a Poll.
    if (this.advertise(this.configTxUs, this.configRxUs)) this.startPoll();
  }

  private goDown(diag: number): void {
    this.state = S.DOWN;
    this.localDiag = diag;
    this.upSince = null;
    this.endPoll();
    // Not Up: back to ≥ 1 s at once (§6.8.3); the peer sees our Down state, no Poll needed.
    this.advertise(Math.max(IDLE_TX_US, this.configTxUs), this.configRxUs);
  }

  private forgetPeer(): void {
    this.remoteDiscriminator = 0;
    this.remoteState = S.DOWN;
    this.remoteDemand = false;
    this.remoteDetectMult = 0;
  }

  /** Set what we advertise; returns whether it changed (a Poll Sequence is due). */
  private advertise(desiredUs: number, requiredUs: number): boolean {
    if (desiredUs === this.desiredMinTxUs && requiredUs === this.requiredMinRxUs) return false;
    const up = this.state === S.UP;
    this.desiredMinTxUs = desiredUs;
    this.requiredMinRxUs = requiredUs;
    // §6.8.3: while Up, sending slower and expecting packets faster both wait
    // until the peer has acknowledged (Final); the other directions apply now.
    if (!up || desiredUs < this.txBasisUs) this.txBasisUs = desiredUs;
    if (!up || requiredUs > this.rxBasisUs) this.rxBasisUs = requiredUs;
    return true;
  }

  private startPoll(): void {
    // §6.5: no new Poll Sequence until the current one has ended.
    if (this.pollActive) {
      this.pollAgain = true;
      return;
    }
    this.pollActive = true;
    this.pollAgain = false;
    if (this.running && this.state !== S.ADMIN_DOWN) this.armTx(this.env.now());
  }

  private pollCompleted(): void {
    this.pollActive = false;
    const txBefore = this.txIntervalUs;
    this.txBasisUs = this.desiredMinTxUs;
    this.rxBasisUs = this.requiredMinRxUs;
    if (this.running && this.txIntervalUs !== txBefore) this.rescheduleTx();
    if (this.running) this.armDetect();
    if (this.pollAgain) {
      this.pollAgain = false;
      this.startPoll();
    }
  }

  private endPoll(): void {
    this.pollActive = false;
    this.pollAgain = false;
  }

  /** Send now and schedule the next periodic packet from now. */
  private transmit(final: boolean): void {
    this.env.send(final);
    this.rescheduleTx();
  }

  /** §6.8.7: the next periodic packet in 75–100 % of the interval (75–90 % when Detect Mult is 1). */
  private rescheduleTx(): void {
    if (!this.running || this.state === S.ADMIN_DOWN) return;
    const jitter = this.detectMult === 1 ? 0.75 + 0.15 * this.env.random() : 0.75 + 0.25 * this.env.random();
    this.armTx(this.env.now() + (this.txIntervalUs / 1000) * jitter);
  }

  private armTx(at: number): void {
    this.nextTxAt = at;
    this.txTimer.arm(at);
  }

  private onTxTimer(): void {
    this.nextTxAt = NaN;
    if (!this.running || this.state === S.ADMIN_DOWN) return;
    // §6.8.7: no periodic packets when the peer asked for none (Required Min
    // RX 0) or is in Demand mode with both sides Up — unless we are polling.
    const quiet = this.remoteMinRxUs === 0 ||
      (this.remoteDemand && this.state === S.UP && this.remoteState === S.UP && !this.pollActive);
    if (quiet) this.armTx(this.env.now() + IDLE_TX_US / 1000);
    else this.transmit(false);
  }

  /**
   * Keep one detection timer pending at or before the deadline; it is moved
   * earlier when needed, never once per packet (onDetectTimer re-arms late).
   */
  private armDetect(): void {
    const detect = this.detectionTimeUs;
    if (detect === 0) return;
    const deadline = this.lastRxAt + detect / 1000;
    if (this.detectArmedAt <= deadline) return;
    this.detectArmedAt = deadline;
    this.detectTimer.arm(deadline);
  }

  private onDetectTimer(): void {
    this.detectArmedAt = NaN;
    if (!this.running || this.state === S.ADMIN_DOWN) return;
    const detect = this.detectionTimeUs;
    if (detect === 0) return;
    const deadline = this.lastRxAt + detect / 1000;
    if (this.env.now() < deadline) {
      this.detectArmedAt = deadline;
      this.detectTimer.arm(deadline);
      return;
    }
    // §6.8.1: silence for a Detection Time forgets the peer's discriminator;
    // §6.8.4: in Init or Up the session goes Down.
    this.forgetPeer();
    const from = this.state;
    if (from === S.INIT || from === S.UP) {
      this.goDown(Diag.CONTROL_DETECTION_TIME_EXPIRED);
      this.transmit(false);
      this.env.changed(from, S.DOWN, this.localDiag);
    }
  }
}
