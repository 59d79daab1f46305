import { APPLIED_HOST_STUCK_MS, AutoReprotect, CandidateView } from './auto-reprotect';
import { GuestState } from './heartbeat';
import { LocalSession } from './local-session';
import { PairHost, PairRuntimeSpec } from './pair-spec';
import { DEFAULT_TIMING, detectionMs } from './timing';

const host = (name: string): PairHost => ({
  name,
  sshAddress: `10.0.0.${name.length}`,
  sshPort: 22,
  sshUser: 'root',
  hostKeys: [],
  replicationAddress: `10.1.0.${name.length}`,
  heartbeatAddress: `10.0.0.${name.length}`,
  heartbeatPort: 7410,
});

// site-b runs the guest alone after site-a's copy died; witness is the declared spare.
const spec: PairRuntimeSpec = { version: 1, vm: 'db', generation: 2, hosts: [host('site-a'), host('site-b')], spareHosts: [host('witness')], timing: DEFAULT_TIMING };
const unheardGraceMs = DEFAULT_TIMING.leaseTtlMs + detectionMs(DEFAULT_TIMING);
// candidate() never touches the session; the re-protection itself is proven in the lab tests.
const reprotector = () => new AutoReprotect('site-b', {} as LocalSession, { privateKey: Buffer.from('identity') });
const views =
  (byHost: Record<string, [alive: boolean, state: GuestState]>) =>
  (name: string): CandidateView => {
    const [alive, state] = byHost[name] ?? [false, 'unknown'];
    return { alive, state };
  };

describe('automatic re-protection: which host gets the new secondary', () => {
  it('the applied host whose copy died comes back, not the spare', () => {
    expect(reprotector().candidate(spec, views({ 'site-a': [true, 'dead'], witness: [true, 'unknown'] }), 0)?.name).toBe('site-a');
    expect(reprotector().candidate(spec, views({ 'site-a': [true, 'fenced'], witness: [true, 'unknown'] }), 0)?.name).toBe('site-a');
  });

  it("waits while the applied host's agent still reports the copy that just died, then takes that host", () => {
    const r = reprotector();
    expect(r.candidate(spec, views({ 'site-a': [true, 'colo-primary'], witness: [true, 'unknown'] }), 0)).toBeUndefined();
    expect(r.candidate(spec, views({ 'site-a': [true, 'colo-primary'], witness: [true, 'unknown'] }), 5_000)).toBeUndefined();
    expect(r.candidate(spec, views({ 'site-a': [true, 'dead'], witness: [true, 'unknown'] }), 5_200)?.name).toBe('site-a');
  });

  it('takes the spare when the applied host stays unheard for a lease and a detection period', () => {
    const r = reprotector();
    const gone = views({ 'site-a': [false, 'unknown'], witness: [true, 'unknown'] });
    expect(r.candidate(spec, gone, 1_000)).toBeUndefined();
    expect(r.candidate(spec, gone, 1_000 + unheardGraceMs - 1)).toBeUndefined();
    expect(r.candidate(spec, gone, 1_000 + unheardGraceMs)?.name).toBe('witness');
  });

  it('takes the spare when the applied host keeps reporting a live copy for longer than any agent takes to resolve it', () => {
    const r = reprotector();
    const stuck = views({ 'site-a': [true, 'serving-alone'], witness: [true, 'unknown'] });
    expect(r.candidate(spec, stuck, 0)).toBeUndefined();
    expect(r.candidate(spec, stuck, APPLIED_HOST_STUCK_MS - 1)).toBeUndefined();
    expect(r.candidate(spec, stuck, APPLIED_HOST_STUCK_MS)?.name).toBe('witness');
  });

  it('the wait starts again once the pair stopped looking (forget)', () => {
    const r = reprotector();
    const gone = views({ 'site-a': [false, 'unknown'], witness: [true, 'unknown'] });
    expect(r.candidate(spec, gone, 0)).toBeUndefined();
    r.forget('db');
    expect(r.candidate(spec, gone, unheardGraceMs)).toBeUndefined();
    expect(r.candidate(spec, gone, 2 * unheardGraceMs)?.name).toBe('witness');
  });

  it('never picks this host, a host with a live copy, or an unheard spare; nothing without an identity', () => {
    expect(reprotector().candidate({ ...spec, spareHosts: [] }, views({ 'site-a': [true, 'colo-secondary'], 'site-b': [true, 'dead'] }), 10 * APPLIED_HOST_STUCK_MS)).toBeUndefined();
    const r = reprotector();
    const noSpare = views({ 'site-a': [false, 'unknown'], witness: [false, 'unknown'] });
    expect(r.candidate(spec, noSpare, 0)).toBeUndefined();
    expect(r.candidate(spec, noSpare, 10 * APPLIED_HOST_STUCK_MS)).toBeUndefined();
    expect(new AutoReprotect('site-b', {} as LocalSession, undefined).candidate(spec, views({ 'site-a': [true, 'dead'] }), 0)).toBeUndefined();
  });
});
