package dev.lockstep.golden;

/**
 * A golden file that cannot be accepted: names the file, the position (1-based line and column,
 * 0 when unknown) and the reason. {@link #getMessage()} is the one line an operator reads.
 */
public final class GoldenParseException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why a file was refused. */
  public enum Code {
    TRUNCATED,
    NOT_JSON,
    INVALID_UTF8,
    TOO_DEEP,
    TOO_LARGE,
    DUPLICATE_KEY,
    NON_FINITE_NUMBER,
    STRING_TOO_LONG,
    NOT_AN_OBJECT,
    MISSING_FIELD,
    IO
  }

  private final String file;
  private final long line;
  private final long column;
  private final Code code;
  private final String reason;

  public GoldenParseException(String file, long line, long column, Code code, String reason) {
    super(file + (line > 0 ? ":" + line + ":" + column : "") + ": " + reason + " [" + code + "]");
    this.file = file;
    this.line = line;
    this.column = column;
    this.code = code;
    this.reason = reason;
  }

  public String file() { return file; }
  public long line() { return line; }
  public long column() { return column; }
  public Code code() { return code; }
  public String reason() { return reason; }
}
