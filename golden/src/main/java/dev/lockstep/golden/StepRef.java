package dev.lockstep.golden;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/** A step named by its index and name (name may be empty). */
public record StepRef(int index, String name) {

  /** Writes {@code {"index": …, "name": …}} as the value of the current field. */
  void write(JsonGenerator g) throws IOException {
    g.writeStartObject();
    g.writeNumberField("index", index);
    g.writeStringField("name", name);
    g.writeEndObject();
  }
}
