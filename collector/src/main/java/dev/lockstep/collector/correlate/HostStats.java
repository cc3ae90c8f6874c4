package dev.lockstep.collector.correlate;

/**
 * How often a host's replica disagreed with the majority: {@code voted} runs with three or more
 * replicas where the host took part, {@code blamed} of them where it dissented.
 */
public record HostStats(String host, long voted, long blamed) {
  public double blameRate() {
    return voted == 0 ? 0 : (double) blamed / voted;
  }
}
