package dev.lockstep.agent.internal;

import java.util.concurrent.locks.LockSupport;

/**
 * Named points in crash-sensitive code (between two writes that must survive a kill -9 in any
 * order) where a test can have a real agent process stop so that it can SIGKILL it exactly there.
 * With {@code -Dlockstep.crash-point=NAME} the process prints {@code CRASH-POINT NAME} on stdout
 * when it reaches that point and then waits forever; without the property {@link #reach} costs a
 * comparison with null.
 */
public final class CrashPoint {
  private static final String ARMED = System.getProperty("lockstep.crash-point");

  private CrashPoint() {}

  public static void reach(String name) {
    if (ARMED != null && ARMED.equals(name)) {
      System.out.println("CRASH-POINT " + name);
      System.out.flush();
      while (true) {
        LockSupport.park();
      }
    }
  }
}
