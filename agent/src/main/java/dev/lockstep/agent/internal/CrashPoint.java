package dev.lockstep.agent.internal;

import java.util.concurrent.locks.LockSupport;

/**
 * Test hooks in a real agent process. Named points in crash-sensitive code (between two writes that must survive a kill -9 in any
 * order) where a test can have a real agent process stop so that it can SIGKILL it exactly there.
 * With {@code -Dlockstep.crash-point=NAME} the process prints {@code CRASH-POINT NAME} on stdout
 * when it reaches that point and then waits forever; without the property {@link #reach} costs a
 * comparison with null. And {@code -Dlockstep.inject-error=COMPONENT} makes that component's
 * periodic task throw an Error ({@code COMPONENT:oom}: exhaust the heap), to test that the agent
 * ends rather than runs on half dead.
 */
public final class CrashPoint {
  private static final String ARMED = System.getProperty("lockstep.crash-point");
  private static final String INJECT = System.getProperty("lockstep.inject-error");

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

  /** Throws the Error armed for this component (see the class comment); otherwise nothing. */
  public static void injectError(String component) {
    if (INJECT == null) {
      return;
    }
    if (INJECT.equals(component)) {
      throw new InternalError("injected by -Dlockstep.inject-error=" + component);
    }
    if (INJECT.equals(component + ":oom")) {
      java.util.List<long[]> hog = new java.util.ArrayList<>();
      while (true) {
        hog.add(new long[1 << 20]);
      }
    }
  }
}
