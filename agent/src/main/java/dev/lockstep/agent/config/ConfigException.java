package dev.lockstep.agent.config;

/** An agent configuration that cannot be used. The message is one line naming the file and key. */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
