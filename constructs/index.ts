/**
 * Orbit constructs: business continuity for QEMU/KVM, declared with cdktf.
 *
 * One concept per file; room for more (metro replicas, memory pools) as new files here.
 */
export * from './boot';
export * from './capacity';
export * from './cloud-init';
export * from './cross-site-failover';
export * from './errors';
export * from './failover-monitor';
export * from './failover-timing';
export * from './highly-available-vm';
export * from './host';
export * from './host-key';
export * from './image';
export * from './logical-id';
export * from './machine';
export * from './placement';
export * from './policies';
export * from './scheduler';
export * from './site';
export * from './ssh-key';
export * from './topology';
export * from './vm';
