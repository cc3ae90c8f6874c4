/**
 * The Lockstep collector: the one place that knows the state of the fleet and acts on it. Agents
 * stream events to the {@link dev.lockstep.collector.gateway gateway}; the {@link
 * dev.lockstep.collector.store store} writes them durably; the {@link
 * dev.lockstep.collector.correlate correlator} decides runs; {@link
 * dev.lockstep.collector.incident incidents}, the {@link dev.lockstep.collector.stop stop
 * authority} and {@link dev.lockstep.collector.alert alerts} act on the decisions.
 */
package dev.lockstep.collector;
